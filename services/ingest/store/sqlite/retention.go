package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

var (
	prunableBuilds = reads.PrunableBuilds()
	deleteBuilds   = reads.DeleteBuilds()
	prunableLogs   = reads.PrunableLogs("p.output_null = 0")
	dropLogs       = reads.DropLogs("1")
)

// storedTime is t as the time columns hold it.
func storedTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// PruneBuilds removes one batch of builds past their age, in one short transaction.
func (s *Store) PruneBuilds(ctx context.Context, q store.PruneQuery) ([]store.PrunedBuild, error) {
	if q.BuildsBefore.IsZero() {
		return nil, nil
	}
	var pruned []store.PrunedBuild
	err := s.write(ctx, "prune builds", func(tx *sql.Tx) error {
		rs, err := tx.QueryContext(ctx, prunableBuilds, q.AfterID, storedTime(q.BuildsBefore), storedTime(q.FailedBefore), readsql.PruneLimit(q))
		if err != nil {
			return err
		}
		if pruned, err = collect(rs, rows.PrunedBuilds(parseTime)); err != nil || len(pruned) == 0 || q.DryRun {
			return err
		}
		ids := make([]int64, len(pruned))
		for i, b := range pruned {
			ids[i] = b.ID
		}
		_, err = tx.ExecContext(ctx, deleteBuilds, jsonText(ids))
		return err
	})
	return pruned, err
}

// PruneLogs drops one batch of phase logs past their age, in one short transaction.
func (s *Store) PruneLogs(ctx context.Context, q store.PruneQuery) ([]store.PrunedLog, error) {
	if q.LogsBefore.IsZero() {
		return nil, nil
	}
	var pruned []store.PrunedLog
	err := s.write(ctx, "prune logs", func(tx *sql.Tx) error {
		rs, err := tx.QueryContext(ctx, prunableLogs, q.AfterID, storedTime(q.LogsBefore), readsql.PruneLimit(q))
		if err != nil {
			return err
		}
		if pruned, err = collect(rs, rows.PrunedLogs()); err != nil || len(pruned) == 0 || q.DryRun {
			return err
		}
		ids := make([]int64, len(pruned))
		for i, l := range pruned {
			ids[i] = l.PhaseID
		}
		if err := keepContext(ctx, tx, ids); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, dropLogs, jsonText(ids))
		return err
	})
	return pruned, err
}
