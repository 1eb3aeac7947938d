package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// eventLog reads the log of phase ?1 while its event ?2 is still there, so that context is
// never read from a log that replaced the one the events were found in.
const eventLog = `
SELECT p.output FROM phases p
WHERE p.id = ?1 AND EXISTS (SELECT 1 FROM phase_events e WHERE e.id = ?2 AND e.phase_id = p.id)`

// eventLogSize reads the stored size of the log of phase ?1 when an event of it keeps its
// context there.
const eventLogSize = `
SELECT COALESCE(length(p.output), 0), p.output_bytes FROM phases p
WHERE p.id = ?1 AND p.output IS NOT NULL
  AND EXISTS (SELECT 1 FROM phase_events e WHERE e.phase_id = p.id AND e.context_in_log = 1)`

// withContext fills in the context of events, all of phase phaseID, that is kept in its log.
func withContext(ctx context.Context, q querier, phaseID int64, events []store.PhaseEvent) ([]store.PhaseEvent, error) {
	return rows.WithContext(events, func(eventID int64) ([]byte, error) {
		var compressed []byte
		err := q.QueryRowContext(ctx, eventLog, phaseID, eventID).Scan(&compressed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return compressed, err
	})
}

// phaseEvents reads events of phase phaseID named name with query and their context, in
// one read transaction: SQLite may give a replaced phase's new events the ids of the old
// ones, so only a snapshot makes sure the log is the one the events were found in. hold
// takes the log's cost first, before the transaction holds a connection.
func (s *Store) phaseEvents(ctx context.Context, phaseID int64, name string, hold store.LogHold, query string, args ...any) ([]store.PhaseEvent, error) {
	release, err := rows.HoldLog(ctx, hold, sql.ErrNoRows, func(size *store.OutputSize) error {
		return s.db.Read.QueryRowContext(ctx, eventLogSize, phaseID).Scan(&size.Compressed, &size.Bytes)
	})
	if err != nil {
		return nil, err
	}
	defer release()
	tx, err := s.db.Read.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a read: nothing to keep or undo
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	events, err := collect(rs, rows.Events(name))
	if err != nil {
		return nil, err
	}
	return withContext(ctx, tx, phaseID, events)
}

// keepContext copies into the events of the phases whose logs are about to be dropped the
// context and text they kept in those logs, so that dropping a log loses none of an
// event's answer.
func keepContext(ctx context.Context, tx *sql.Tx, phaseIDs []int64) error {
	for _, id := range phaseIDs {
		rs, err := tx.QueryContext(ctx, rows.EventColumns+` WHERE e.phase_id = ? AND e.context_in_log = 1`, id)
		if err != nil {
			return err
		}
		events, err := collect(rs, rows.Events(""))
		if err != nil {
			return err
		}
		if events, err = withContext(ctx, tx, id, events); err != nil {
			return err
		}
		if len(events) == 0 {
			continue // a quiet phase: the next ones still keep theirs
		}
		if _, err := tx.ExecContext(ctx, `
UPDATE phase_events SET text = value->>'text', pre_context = value->>'pre', post_context = value->>'post',
    context_in_log = 0, text_in_log = 0
FROM jsonb_each(?) WHERE phase_events.id = value->>'id'`, jsonText(rows.ContextRows(events))); err != nil {
			return err
		}
	}
	return nil
}
