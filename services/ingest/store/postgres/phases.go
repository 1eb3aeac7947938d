package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/failuresql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// UpdatePhase is one batch. Its first statement touches the build row, which locks it:
// updates of one build's phases take turns, so each one's delete sees the events the
// previous one wrote. Every later statement repeats the ownership condition, because a
// batch runs all its statements whatever the first one found.
func (s *Store) UpdatePhase(ctx context.Context, actor store.Actor, p store.PhaseUpdate) (store.Phase, error) {
	var phase store.Phase
	err := s.write(ctx, "update phase", func() error {
		var err error
		phase, err = s.updatePhase(ctx, actor, p)
		return err
	})
	return phase, err
}

const ownedBuildSQL = `SELECT b.id FROM builds b WHERE b.id = $1 AND (b.owner_key = $2 OR $3)`

func (s *Store) updatePhase(ctx context.Context, actor store.Actor, p store.PhaseUpdate) (store.Phase, error) {
	t := now()
	var phase store.Phase
	found := false
	owned := []any{p.BuildID, actor.OwnerKey(), actor.Admin}
	b := &pgx.Batch{}
	b.Queue(`UPDATE builds SET updated_at = $4 WHERE id = $1 AND (owner_key = $2 OR $3)`, slices.Concat(owned, []any{t})...)

	queuePhase(b, owned, p, t, &phase, &found)
	if err := s.sendBatch(ctx, b); err != nil {
		return store.Phase{}, err
	}
	if !found {
		return store.Phase{}, s.whyNotUpdated(ctx, p.BuildID)
	}
	return phase, nil
}

// queuePhase queues the replacement of the phase's row and events on b, for a build that
// owned names; the phase written is read into phase, and found is set when there was one.
func queuePhase(b *pgx.Batch, owned []any, p store.PhaseUpdate, t time.Time, phase *store.Phase, found *bool) {
	n := rows.CountEvents(p)
	b.Queue(`
INSERT INTO phases (build_id, name, status, output, output_null, output_bytes, error_count, warning_count,
                    errors_total, warnings_total, updated_at)
SELECT o.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM (`+ownedBuildSQL+`) o
ON CONFLICT (build_id, name) DO UPDATE
SET status = EXCLUDED.status, output = EXCLUDED.output, output_null = EXCLUDED.output_null, output_pruned = false,
    output_bytes = EXCLUDED.output_bytes, error_count = EXCLUDED.error_count,
    warning_count = EXCLUDED.warning_count, errors_total = EXCLUDED.errors_total,
    warnings_total = EXCLUDED.warnings_total, updated_at = EXCLUDED.updated_at
RETURNING id, name, status`, slices.Concat(owned, []any{p.Name, p.Status, rows.Output(p), p.OutputNull, p.OutputBytes,
		n.Errors, n.Warnings, n.ErrorsTotal, n.WarningsTotal, t})...).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			*found = true
			if err := rs.Scan(&phase.ID, &phase.Name, &phase.Status); err != nil {
				return err
			}
		}
		return rs.Err()
	})
	b.Queue(`
DELETE FROM phase_event_lists
WHERE phase_id = (SELECT p.id FROM phases p WHERE p.name = $4 AND p.build_id IN (`+ownedBuildSQL+`))`,
		slices.Concat(owned, []any{p.Name})...)
	if len(p.Events) > 0 {
		hashes, prints := failuresql.Prints(p.Events)
		queuePrints(b, owned, prints, t)
		queueEvents(b, owned, p, hashes)
	}
	queueBuildPrints(b, p.BuildID)
}

// queueEvents queues the insert of a phase's events with their fingerprints' hashes;
// events found in the phase's log keep their context, and repeated ones their text, there
// rather than in a copy (rows.StoredEvents).
func queueEvents(b *pgx.Batch, owned []any, p store.PhaseUpdate, hashes []string) {
	events, textInLog := rows.StoredEvents(p, hashes)
	n := len(events)
	kinds, texts, files, pre, post := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lineNos, sourceLines, starts, ends, repeats := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	for i, e := range events {
		kinds[i], texts[i], files[i], pre[i], post[i] = string(e.Kind), e.Text, e.SourceFile, e.PreContext, e.PostContext
		lineNos[i], sourceLines[i], starts[i], ends[i], repeats[i] = int32(e.LineNo), int32(e.SourceLine), int32(e.Start), int32(e.End), int32(e.RepeatCount)
	}
	b.Queue(`
INSERT INTO phase_event_lists (phase_id, context_in_log, kinds, line_nos, texts, source_files, source_lines, pre_contexts,
                               post_contexts, start_lines, end_lines, repeat_counts, fingerprints, text_in_log)
SELECT p.id, $16, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $17
FROM phases p WHERE p.name = $4 AND p.build_id IN (`+ownedBuildSQL+`)`,
		slices.Concat(owned, []any{p.Name, kinds, lineNos, texts, files, sourceLines, pre, post, starts, ends, repeats, hashes,
			p.ContextInOutput, textInLog})...)
}

// PhaseOutput reads a phase's stored log.
func (s *Store) PhaseOutput(ctx context.Context, buildID int64, phase string) (store.PhaseOutput, error) {
	out, err := rows.ScanOutput(s.pool.QueryRow(ctx, reads.PhaseOutput, buildID, phase))
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.buildExists(ctx, buildID); err != nil {
			return out, err
		}
		return out, rows.PhaseNotFound(buildID, phase)
	}
	return out, wrap("phase output", err)
}

// PhaseOutputSize reads the size of a phase's stored log.
func (s *Store) PhaseOutputSize(ctx context.Context, buildID int64, phase string) (store.OutputSize, error) {
	var size store.OutputSize
	err := s.pool.QueryRow(ctx, reads.PhaseOutputSize, buildID, phase).Scan(&size.Compressed, &size.Bytes, &size.Null, &size.Pruned)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.buildExists(ctx, buildID); err != nil {
			return size, err
		}
		return size, rows.PhaseNotFound(buildID, phase)
	}
	return size, wrap("phase output size", err)
}

func (s *Store) buildExists(ctx context.Context, buildID int64) error {
	return wrap("build exists", rows.BuildExists(s.pool.QueryRow(ctx, reads.BuildExists, buildID), buildID))
}

// ListEvents reads a page of a build's events, in phase order (the order the phases were
// first reported) and then line order.
func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) ([]store.PhaseEvent, error) {
	query, args := reads.EventPhases(q.BuildID, q.After.PhaseID)
	rs, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap("list events", err)
	}
	phases, err := collect(rs, rows.EventPhases())
	if err != nil {
		return nil, wrap("list events", err)
	}
	events, err := rows.PageEvents(q, phases, func(p rows.EventPhase, lineNo, id int64, limit int) ([]store.PhaseEvent, error) {
		query, args := reads.PhaseEvents(p.ID, q.Kind, lineNo, id, limit)
		return s.phaseEvents(ctx, p.ID, p.Name, q.Hold, query, args...)
	})
	if err != nil {
		return nil, wrap("list events", err)
	}
	if len(events) == 0 {
		if err := s.buildExists(ctx, q.BuildID); err != nil {
			return nil, err
		}
	}
	return events, nil
}
