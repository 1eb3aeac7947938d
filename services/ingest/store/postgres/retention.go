package postgres

import (
	"context"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

var (
	prunableBuilds = reads.PrunableBuilds()
	deleteBuilds   = reads.DeleteBuilds()
	// The phases whose logs go are locked until the logs are gone: a phase reported again
	// meanwhile would otherwise have its new log dropped, and its events' context and text
	// with it, after their copy was taken from the old one.
	prunableLogs = reads.PrunableLogs("NOT p.output_null") + " FOR UPDATE OF p"
	dropLogs     = reads.DropLogs("true")
)

// PruneBuilds removes one batch of builds past their age, in one short transaction.
func (s *Store) PruneBuilds(ctx context.Context, q store.PruneQuery) ([]store.PrunedBuild, error) {
	if q.BuildsBefore.IsZero() {
		return nil, nil
	}
	var pruned []store.PrunedBuild
	err := s.write(ctx, "prune builds", func() error {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
		rs, err := tx.Query(ctx, prunableBuilds, q.AfterID, q.BuildsBefore, q.FailedBefore, readsql.PruneLimit(q))
		if err != nil {
			return err
		}
		if pruned, err = collect(rs, rows.PrunedBuilds(utc)); err != nil || len(pruned) == 0 || q.DryRun {
			return err
		}
		if _, err := tx.Exec(ctx, deleteBuilds, prunedBuildIDs(pruned)); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	return pruned, err
}

// PruneLogs drops one batch of phase logs past their age, in one short transaction.
func (s *Store) PruneLogs(ctx context.Context, q store.PruneQuery) ([]store.PrunedLog, error) {
	if q.LogsBefore.IsZero() {
		return nil, nil
	}
	var pruned []store.PrunedLog
	err := s.write(ctx, "prune logs", func() error {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
		rs, err := tx.Query(ctx, prunableLogs, q.AfterID, q.LogsBefore, readsql.PruneLimit(q))
		if err != nil {
			return err
		}
		if pruned, err = collect(rs, rows.PrunedLogs()); err != nil || len(pruned) == 0 || q.DryRun {
			return err
		}
		ids := prunedPhaseIDs(pruned)
		if err := keepContext(ctx, tx, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, dropLogs, ids); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	return pruned, err
}

func prunedBuildIDs(builds []store.PrunedBuild) []int64 {
	ids := make([]int64, len(builds))
	for i, b := range builds {
		ids[i] = b.ID
	}
	return ids
}

func prunedPhaseIDs(logs []store.PrunedLog) []int64 {
	ids := make([]int64, len(logs))
	for i, l := range logs {
		ids[i] = l.PhaseID
	}
	return ids
}
