package main

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	ingestservice "github.com/spackmon/spackmon/services/ingest/service"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/watch"
)

// Watch bounds the watchers of builds (WatchBuild, the event stream) one ingest process
// serves: each holds a stream and a goroutine.
type Watch struct {
	WatchersPerProcess int `envconfig:"WATCHERS_PER_PROCESS" default:"1000" desc:"most watchers of builds one ingest process serves at once"`
	WatchersPerBuild   int `envconfig:"WATCHERS_PER_BUILD" default:"100" desc:"most watchers of one build one ingest process serves at once"`
}

// withDefaults fills in what a configuration made in code left zero.
func (w Watch) withDefaults() Watch {
	if w.WatchersPerProcess == 0 {
		w.WatchersPerProcess = 1000
	}
	if w.WatchersPerBuild == 0 {
		w.WatchersPerBuild = 100
	}
	return w
}

func (w Watch) validate() error {
	if w.WatchersPerProcess < 1 || w.WatchersPerBuild < 1 {
		return fmt.Errorf("watchers per process %d and per build %d: want at least 1 each", w.WatchersPerProcess, w.WatchersPerBuild)
	}
	return nil
}

// registerIngest registers ingest's services on s. Watchers are woken by this process's
// own writes and, when the store hears them (PostgreSQL), by every other replica's, until
// ctx ends.
func registerIngest(ctx context.Context, s *grpc.Server, st store.Store, w Watch, maxBody int64, log *slog.Logger, opts ...ingestservice.Option) error {
	w = w.withDefaults()
	if err := w.validate(); err != nil {
		return err
	}
	hub := watch.NewHub(w.WatchersPerProcess, w.WatchersPerBuild)
	if l, ok := st.(store.ChangeListener); ok {
		go func() { _ = l.ListenChanges(ctx, hub.Changed, hub.ChangedAll) }()
	}
	ingest := ingestservice.New(st, append(opts, ingestservice.WithChanges(hub))...)
	ingestv1.RegisterIngestServiceServer(s, ingest)
	ingestv1.RegisterPhaseStreamServiceServer(s, ingestservice.NewPhaseStream(ingest, maxBody))
	ingestv1.RegisterBuildWatchServiceServer(s, ingestservice.NewWatch(st, hub, ctx.Done(), ingest.LogHold()))
	ingestv1.RegisterFailureServiceServer(s, ingestservice.NewFailures(st))
	ingestv1.RegisterCompareServiceServer(s, ingestservice.NewCompare(st))
	go ingestservice.BackfillFingerprints(ctx, st, log)
	return nil
}
