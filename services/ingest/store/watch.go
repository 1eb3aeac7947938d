package store

import (
	"context"

	"github.com/spackmon/spackmon/pkg/logparse"
)

// WatchStore reads what changed in a build after a revision, for its watchers.
type WatchStore interface {
	// BuildChanges answers the build's status and revision, and its phases changed after
	// revision after (at most limit of them, oldest change first), each with its error
	// events (errs.NotFound for an unknown build); hold as EventQuery.Hold.
	BuildChanges(ctx context.Context, buildID, after int64, limit int, hold LogHold) (BuildChanges, error)
}

// ChangeListener is a store that hears the changes every process makes to builds.
type ChangeListener interface {
	// ListenChanges calls changed with the id of each build changed, by any process, until
	// ctx ends; lost, whenever announcements may have been missed.
	ListenChanges(ctx context.Context, changed func(buildID int64), lost func()) error
}

// BuildChanges is what changed in a build after a revision.
type BuildChanges struct {
	// Revision is the build's latest; StatusRevision the one that set its Status.
	Revision       int64
	Status         string
	StatusRevision int64
	Phases         []PhaseChange
}

// PhaseChange is a phase as it is now, with the revision that last stored it and its
// error events.
type PhaseChange struct {
	Revision int64
	PhaseInfo
	Errors []logparse.Event
}
