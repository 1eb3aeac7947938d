package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/failuresql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// UpdatePhase replaces the phase's status, output and events.
func (s *Store) UpdatePhase(ctx context.Context, actor store.Actor, p store.PhaseUpdate) (store.Phase, error) {
	var phase store.Phase
	err := s.write(ctx, "update phase", func(tx *sql.Tx) error {
		if err := checkOwner(ctx, tx, actor, p.BuildID); err != nil {
			return err
		}
		var err error
		phase, err = upsertPhase(ctx, tx, p)
		return err
	})
	return phase, err
}

// upsertPhase replaces the phase's status, output and events in tx.
func upsertPhase(ctx context.Context, tx *sql.Tx, p store.PhaseUpdate) (store.Phase, error) {
	var phase store.Phase
	t := now()
	if _, err := tx.ExecContext(ctx, `UPDATE builds SET updated_at = ? WHERE id = ?`, t, p.BuildID); err != nil {
		return phase, err
	}
	n := rows.CountEvents(p)
	err := tx.QueryRowContext(ctx, `
INSERT INTO phases (build_id, name, status, output, output_null, output_bytes, error_count, warning_count,
                    errors_total, warnings_total, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (build_id, name) DO UPDATE
SET status = excluded.status, output = excluded.output, output_null = excluded.output_null, output_pruned = 0,
    output_bytes = excluded.output_bytes, error_count = excluded.error_count,
    warning_count = excluded.warning_count, errors_total = excluded.errors_total,
    warnings_total = excluded.warnings_total, updated_at = excluded.updated_at
RETURNING id, name, status`, p.BuildID, p.Name, p.Status, rows.Output(p), p.OutputNull, p.OutputBytes,
		n.Errors, n.Warnings, n.ErrorsTotal, n.WarningsTotal, t).Scan(&phase.ID, &phase.Name, &phase.Status)
	if err != nil {
		return phase, err
	}
	removed, err := tx.ExecContext(ctx, `DELETE FROM phase_events WHERE phase_id = ?`, phase.ID)
	if err != nil {
		return phase, err
	}
	hashes, prints := failuresql.Prints(p.Events)
	if err := upsertPrints(ctx, tx, prints, t); err != nil {
		return phase, err
	}
	if err := insertEvents(ctx, tx, phase.ID, p, hashes); err != nil {
		return phase, err
	}
	// A phase posted for the first time only adds events: the build's other fingerprints
	// keep their counts.
	if gone, err := removed.RowsAffected(); err != nil || gone > 0 {
		return phase, rewriteBuildPrints(ctx, tx, p.BuildID)
	}
	return phase, addBuildPrints(ctx, tx, p.BuildID, phase.ID, len(p.Events))
}

// eventRow is an event as the JSON parameter of insertEvents.
type eventRow struct {
	Kind        string `json:"kind"`
	LineNo      int    `json:"line_no"`
	Text        string `json:"text"`
	SourceFile  string `json:"source_file"`
	SourceLine  int    `json:"source_line"`
	PreContext  string `json:"pre"`
	PostContext string `json:"post"`
	Start       int    `json:"start"`
	End         int    `json:"end"`
	Repeat      int    `json:"repeat"`
	Fingerprint string `json:"fingerprint"`
	InLog       bool   `json:"in_log"`
	TextInLog   bool   `json:"text_in_log"`
}

// insertEvents writes a phase's events with their fingerprints' hashes; events found in
// the phase's log keep their context, and repeated ones their text, there rather than in a
// copy (rows.StoredEvents).
func insertEvents(ctx context.Context, tx *sql.Tx, phaseID int64, p store.PhaseUpdate, hashes []string) error {
	if len(p.Events) == 0 {
		return nil
	}
	in := make([]eventRow, len(p.Events))
	events, textInLog := rows.StoredEvents(p, hashes)
	for i, e := range events {
		in[i] = eventRow{string(e.Kind), e.LineNo, e.Text, e.SourceFile, e.SourceLine, e.PreContext, e.PostContext, e.Start, e.End,
			e.RepeatCount, hashes[i], p.ContextInOutput, textInLog[i]}
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO phase_events (phase_id, kind, line_no, text, source_file, source_line, pre_context, post_context, start_line, end_line,
                          repeat_count, fingerprint, context_in_log, text_in_log)
SELECT ?, value->>'kind', value->>'line_no', value->>'text', value->>'source_file', value->>'source_line',
       value->>'pre', value->>'post', value->>'start', value->>'end', value->>'repeat', value->>'fingerprint', value->>'in_log',
       value->>'text_in_log'
FROM jsonb_each(?) ORDER BY key`, phaseID, jsonText(in))
	return err
}

// PhaseOutput reads a phase's stored log.
func (s *Store) PhaseOutput(ctx context.Context, buildID int64, phase string) (store.PhaseOutput, error) {
	out, err := rows.ScanOutput(s.db.Read.QueryRowContext(ctx, reads.PhaseOutput, buildID, phase))
	if errors.Is(err, sql.ErrNoRows) {
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
	err := s.db.Read.QueryRowContext(ctx, reads.PhaseOutputSize, buildID, phase).Scan(&size.Compressed, &size.Bytes, &size.Null, &size.Pruned)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.buildExists(ctx, buildID); err != nil {
			return size, err
		}
		return size, rows.PhaseNotFound(buildID, phase)
	}
	return size, wrap("phase output size", err)
}

func (s *Store) buildExists(ctx context.Context, buildID int64) error {
	return wrap("build exists", rows.BuildExists(s.db.Read.QueryRowContext(ctx, reads.BuildExists, buildID), buildID))
}

// ListEvents reads a page of a build's events, in phase order (the order the phases were
// first reported) and then line order.
func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) ([]store.PhaseEvent, error) {
	query, args := reads.EventPhases(q.BuildID, q.After.PhaseID)
	rs, err := s.db.Read.QueryContext(ctx, query, args...)
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
