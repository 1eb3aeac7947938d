package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// changesChannel is where the triggers of migration 00008 announce each changed build.
const changesChannel = "spackmon_build_changes"

// BuildChanges reads the build's row before its phases: a phase stored in between has a
// revision above the build's read, so it is either read now or announced later, never
// passed over by a watcher's cursor.
func (s *Store) BuildChanges(ctx context.Context, buildID, after int64, limit int, hold store.LogHold) (store.BuildChanges, error) {
	var c store.BuildChanges
	err := rows.ScanBuildRevision(s.pool.QueryRow(ctx, reads.BuildRevision(), buildID), &c)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, rows.BuildNotFound(buildID)
	}
	if err != nil {
		return c, wrap("build changes", err)
	}
	rs, err := s.pool.Query(ctx, reads.ChangedPhases(), buildID, after, limit)
	if err != nil {
		return c, wrap("build changes", err)
	}
	phases, err := collect(rs, rows.ChangedPhases())
	if err != nil {
		return c, wrap("build changes", err)
	}
	err = rows.AddPhaseChanges(&c, phases, func(phaseID int64) ([]store.PhaseEvent, error) {
		return s.phaseEvents(ctx, phaseID, "", hold, reads.PhaseErrors(), phaseID)
	})
	return c, wrap("build changes", err)
}

// listenRetry is how long ListenChanges waits before it connects again.
const listenRetry = time.Second

// ListenChanges holds one connection of the pool for LISTEN and hears the changes of every
// ingest replica on it. When the connection is lost it takes another, and says lost:
// announcements made in between were missed.
func (s *Store) ListenChanges(ctx context.Context, changed func(buildID int64), lost func()) error {
	for {
		// A lost connection is not fatal: the pool dials another one.
		_ = s.listen(ctx, changed)
		if ctx.Err() != nil {
			return nil
		}
		lost()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(listenRetry):
		}
	}
}

func (s *Store) listen(ctx context.Context, changed func(buildID int64)) error {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The session keeps listening: the connection goes back to no one else.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			changed(id)
		}
	}
}
