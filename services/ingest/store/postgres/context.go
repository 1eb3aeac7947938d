package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// eventLog reads the log of phase $1 while the list of its event $2 is still there
// (migration 00018), so that context is never read from a log that replaced the one the
// events were found in.
const eventLog = `
SELECT p.output FROM phases p
WHERE p.id = $1 AND EXISTS (SELECT 1 FROM phase_event_lists l WHERE l.id = $2::bigint / ` + eventsPerList + ` AND l.phase_id = p.id)`

// eventLogSize reads the stored size of the log of phase $1 when its events keep their
// context there.
const eventLogSize = `
SELECT coalesce(length(p.output), 0), p.output_bytes FROM phases p JOIN phase_event_lists l ON l.phase_id = p.id
WHERE p.id = $1 AND l.context_in_log AND p.output IS NOT NULL`

// withContext fills in the context and text of events, all of phase phaseID, kept in its
// log, read in tx: the events' own snapshot.
func withContext(ctx context.Context, tx pgx.Tx, phaseID int64, events []store.PhaseEvent) ([]store.PhaseEvent, error) {
	return rows.WithContext(events, func(eventID int64) ([]byte, error) {
		var compressed []byte
		err := tx.QueryRow(ctx, eventLog, phaseID, eventID).Scan(&compressed)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return compressed, err
	})
}

// phaseEvents reads events of phase phaseID named name with query, and their context and
// text from the log, in one read-only snapshot: a log pruned or replaced between two
// statements of their own would leave them blank. hold takes the log's cost first.
func (s *Store) phaseEvents(ctx context.Context, phaseID int64, name string, hold store.LogHold, query string, args ...any) ([]store.PhaseEvent, error) {
	release, err := rows.HoldLog(ctx, hold, pgx.ErrNoRows, func(size *store.OutputSize) error {
		return s.pool.QueryRow(ctx, eventLogSize, phaseID).Scan(&size.Compressed, &size.Bytes)
	})
	if err != nil {
		return nil, err
	}
	defer release()
	var events []store.PhaseEvent
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rs, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		if events, err = collect(rs, rows.Events(name)); err != nil {
			return err
		}
		events, err = withContext(ctx, tx, phaseID, events)
		return err
	})
	return events, err
}

// keepContext copies into the events of the phases whose logs are about to be dropped the
// context and text they kept in those logs, so that dropping a log loses none of an
// event's answer.
func keepContext(ctx context.Context, tx pgx.Tx, phaseIDs []int64) error {
	for _, id := range phaseIDs {
		rs, err := tx.Query(ctx, rows.EventColumns+` WHERE e.phase_id = $1 AND e.context_in_log`, id)
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
		n := len(events)
		ids, texts, pre, post := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
		for i, e := range events {
			ids[i], texts[i], pre[i], post[i] = e.Key.ID, e.Text, e.PreContext, e.PostContext
		}
		// context_in_log is the list's: every event of it was read, so the arrays are
		// rebuilt whole, in the order of the events' ids. The list is the one they were
		// read from (an event's id names it): a phase reported again meanwhile has a new
		// list, which keeps its own.
		if _, err := tx.Exec(ctx, `
UPDATE phase_event_lists SET texts = u.texts, pre_contexts = u.pre, post_contexts = u.post, context_in_log = false,
       text_in_log = array_fill(false, ARRAY[cardinality(kinds)])
FROM (SELECT array_agg(text ORDER BY id) AS texts, array_agg(pre ORDER BY id) AS pre, array_agg(post ORDER BY id) AS post
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, text, pre, post)) AS u
WHERE phase_event_lists.id = ($1::bigint[])[1] / `+eventsPerList, ids, texts, pre, post); err != nil {
			return err
		}
	}
	return nil
}
