package service

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/errs"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/watch"
)

// WithChanges tells the watchers in hub of each build this process changes, at once, so that
// a store that announces nothing itself (SQLite) still wakes them.
func WithChanges(hub *watch.Hub) Option {
	return func(s *Server) { s.changes = hub }
}

func (s *Server) changed(buildID int64) {
	if s.changes != nil {
		s.changes.Changed(buildID)
	}
}

// watchBatch is the most phases one read for a watcher takes: each comes with up to 500
// error events, so this bounds a read's memory.
const watchBatch = 16

// watchRetry is how long a watch whose read of a log the read budget refused waits before it
// reads the changes again, unless a change wakes it first.
const watchRetry = time.Second

// WatchServer serves BuildWatchService: each watcher reads what changed after its cursor
// whenever the hub wakes it. It keeps no backlog: a watcher that falls behind reads the
// phases as they are when it catches up, each once, whatever it missed.
type WatchServer struct {
	ingestv1.UnimplementedBuildWatchServiceServer
	store store.WatchStore
	hub   *watch.Hub
	// stopping is closed when the server stops, and ends every watch: a graceful stop
	// would otherwise wait for the watchers until its grace ran out, then cut the calls
	// still running with them.
	stopping <-chan struct{}
	// hold takes what reading a log for the error events' context costs (Server.LogHold).
	hold store.LogHold
}

// NewWatch returns the watch service over st, woken by hub, whose watches end when stopping
// is closed; hold, when not nil, takes what each read of a log for context costs.
func NewWatch(st store.WatchStore, hub *watch.Hub, stopping <-chan struct{}, hold store.LogHold) *WatchServer {
	return &WatchServer{store: st, hub: hub, stopping: stopping, hold: hold}
}

// WatchBuild sends the build's changes after the request's revision, then waits for more.
func (w *WatchServer) WatchBuild(req *ingestv1.WatchBuildRequest, stream ingestv1.BuildWatchService_WatchBuildServer) error {
	if err := checkBuildID(req.GetBuildId(), "Missing required build id."); err != nil {
		return err
	}
	if req.GetAfterRevision() < 0 {
		return errs.New(errs.BadRequest, "after_revision must not be negative.")
	}
	ctx := stream.Context()
	// Registered before the first read: a change stored during it wakes the loop again.
	watcher, err := w.hub.Watch(req.GetBuildId())
	if err != nil {
		return err
	}
	defer watcher.Close()
	cursor := req.GetAfterRevision()
	for first := true; ; first = false {
		var refused bool
		if cursor, refused, err = w.sendChanges(stream, req.GetBuildId(), cursor); err != nil {
			return err
		}
		var again <-chan time.Time
		if refused {
			again = time.After(watchRetry)
		}
		if first {
			// The header tells the caller the watch is on, before any change: a gateway
			// answers 200 then, and a test knows a write from now on will be seen.
			// After a change was sent the header has gone with it: the error says so.
			_ = stream.SendHeader(metadata.MD{})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.stopping:
			return status.Error(codes.Unavailable, "The server is stopping; watch again after the last revision received.")
		case <-watcher.Changed():
		case <-again:
		}
	}
}

// sendChanges sends every change after cursor, a batch at a time, and answers the new cursor.
// A read of a log for context that the read budget refused is no error of the watch:
// refused says so, and the changes after the cursor answered are to be read again.
func (w *WatchServer) sendChanges(stream ingestv1.BuildWatchService_WatchBuildServer, buildID, cursor int64) (next int64, refused bool, err error) {
	hold := w.hold
	if hold != nil {
		hold = func(ctx context.Context, size store.OutputSize) (func(), error) {
			release, err := w.hold(ctx, size)
			refused = err != nil
			return release, err
		}
	}
	for {
		c, err := w.store.BuildChanges(stream.Context(), buildID, cursor, watchBatch, hold)
		if err != nil {
			if refused {
				return cursor, true, nil
			}
			return cursor, false, err
		}
		for _, m := range changeMessages(buildID, cursor, c, len(c.Phases) < watchBatch) {
			if err := stream.Send(m); err != nil {
				return cursor, false, err
			}
			cursor = m.GetRevision()
		}
		if len(c.Phases) < watchBatch {
			return cursor, false, nil
		}
	}
}

// changeMessages orders the changes after cursor by revision. A status change newer than
// the last phase read waits for the next batch when this one is not the last (complete
// false), so that no phase between them is passed over.
func changeMessages(buildID, cursor int64, c store.BuildChanges, complete bool) []*ingestv1.BuildChange {
	out := make([]*ingestv1.BuildChange, 0, len(c.Phases)+1)
	status := &ingestv1.BuildChange{BuildId: buildID, Revision: c.StatusRevision,
		Change: &ingestv1.BuildChange_Status{Status: &ingestv1.StatusChange{Status: c.Status}}}
	statusDue := c.StatusRevision > cursor
	for _, p := range c.Phases {
		if statusDue && c.StatusRevision < p.Revision {
			out, statusDue = append(out, status), false
		}
		out = append(out, &ingestv1.BuildChange{BuildId: buildID, Revision: p.Revision,
			Change: &ingestv1.BuildChange_Phase{Phase: phaseChange(p)}})
	}
	if statusDue && complete {
		out = append(out, status)
	}
	return out
}

func phaseChange(p store.PhaseChange) *ingestv1.PhaseChange {
	pc := &ingestv1.PhaseChange{Phase: phaseSummary(p.PhaseInfo)}
	for _, e := range p.Errors {
		pc.Errors = append(pc.Errors, buildEvent(p.Name, e))
	}
	return pc
}
