package store

import (
	"context"
	"time"
)

// Pruner removes what is past its age, a bounded batch per call, each batch its own short
// transaction, so that ingest keeps answering while spackmon prune runs.
type Pruner interface {
	// PruneBuilds removes (with DryRun, only lists) up to Limit builds whose id is above
	// AfterID, in id order, that were created before BuildsBefore, or before FailedBefore
	// for a FAILED one, and are not the newest build of their spec. Their phases, events,
	// tags, tests and attachments go with them; specs stay.
	PruneBuilds(ctx context.Context, q PruneQuery) ([]PrunedBuild, error)
	// PruneLogs drops (with DryRun, only lists) up to Limit phase logs above AfterID, in id
	// order, last updated before LogsBefore. The phases and their events stay; the output
	// reads as pruned.
	PruneLogs(ctx context.Context, q PruneQuery) ([]PrunedLog, error)
}

// PruneQuery is one batch of pruning. A zero cut-off prunes nothing of its kind.
type PruneQuery struct {
	BuildsBefore, FailedBefore, LogsBefore time.Time
	AfterID                                int64
	Limit                                  int
	DryRun                                 bool
}

// MaxPruneBatch bounds a batch: how long its transaction holds its row locks.
const MaxPruneBatch = 5000

// PrunedBuild is a build removed.
type PrunedBuild struct {
	ID        int64
	SpecName  string
	FullHash  string
	Status    string
	CreatedAt time.Time
}

// PrunedLog is a phase log dropped.
type PrunedLog struct {
	PhaseID int64
	BuildID int64
	Phase   string
	// Bytes is the compressed size freed.
	Bytes int64
}
