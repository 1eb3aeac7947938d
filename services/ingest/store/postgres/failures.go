package postgres

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/failuresql"
)

// failures joins a build's events phase by phase, each from its phase's list (migration
// 00018) and only the fields the rewrite reads: the phase_events view would unnest every
// field, texts and context included. As a plain join, the planner, short of statistics on
// a table growing faster than they are gathered (no autovacuum yet, or none at all), read
// every event for every phase written, and seeding slowed in proportion to the events
// stored (from 90 to 7 builds/s by 5,000 builds). OFFSET 0 keeps the subquery from being
// flattened into such a join.
var failures = failuresql.New(
	func(n int) string { return "$" + strconv.Itoa(n) },
	func(param string) string { return param + "::timestamptz" },
	`CROSS JOIN LATERAL (SELECT l.id * `+eventsPerList+` + e.n - 1 AS id, e.kind, e.fingerprint, e.text_in_log
    FROM phase_event_lists l, unnest(l.kinds, l.fingerprints, l.text_in_log) WITH ORDINALITY AS e(kind, fingerprint, text_in_log, n)
    WHERE l.phase_id = p.id OFFSET 0) e`,
	failuresql.SpreadByDay("failure_spread sp", func(t string) string { return `(` + t + ` AT TIME ZONE 'UTC')::date` }),
	eventByID,
)

// eventsPerList is what an event's id is its list's id times, plus its place in the list
// (migration 00018, whose view phase_events spells it out too).
const eventsPerList = "1048576"

// eventByID reads the event whose id is id from its list (migration 00018) as pe, only the
// fields an example shows, by subscript: the phase_events view would unnest the whole list,
// every field of up to a thousand events, for each example.
func eventByID(id string) string {
	at := `[` + id + ` % ` + eventsPerList + ` + 1]`
	return `CROSS JOIN LATERAL (SELECT ` + id + ` AS id, l.phase_id, l.line_nos` + at + ` AS line_no, l.texts` + at + ` AS text
    FROM phase_event_lists l WHERE l.id = ` + id + ` / ` + eventsPerList + `) AS pe`
}

// queuePrints queues, before the events of a phase are written, the upsert of their
// fingerprints, for a build that owned names (its parameters $1 to $3); with owned nil,
// whatever the build.
func queuePrints(b *pgx.Batch, owned []any, prints []fingerprint.Print, t time.Time) {
	if len(prints) == 0 {
		return
	}
	hashes, kinds, classes, normals := failuresql.Columns(prints)
	guard := `EXISTS (` + ownedBuildSQL + `)`
	if owned == nil {
		// Parameters $1 to $3 stay, typed, so that the statement is numbered the same.
		owned, guard = []any{int64(0), "", true}, `$1 >= 0 AND $2 = '' AND $3`
	}
	b.Queue(`
INSERT INTO fingerprints (hash, kind, class, normal, first_seen, last_seen)
SELECT f.hash, f.kind, f.class, f.normal, $8, $8
FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) AS f(hash, kind, class, normal)
WHERE `+guard+`
ORDER BY f.hash
ON CONFLICT (hash) DO UPDATE SET last_seen = EXCLUDED.last_seen WHERE fingerprints.last_seen < EXCLUDED.last_seen`,
		slices.Concat(owned, []any{hashes, kinds, classes, normals, t})...)
}

// queueBuildPrints queues the rewrite of a build's fingerprints from its events.
func queueBuildPrints(b *pgx.Batch, buildID int64) {
	b.Queue(failures.ClearBuild, buildID)
	b.Queue(failures.FillBuild, buildID)
}

// unprinted are events stored without a fingerprint, for the backfill, from their lists
// (migration 00018), at most $1, reading only the fields the backfill needs. It locks the
// first $1 lists that have such events, whether or not the limit leaves it any of theirs:
// their phases' reports and prunes wait for the batch.
const unprinted = `
SELECT l.id * ` + eventsPerList + ` + e.n - 1 AS id, e.kind, e.text, (SELECT p.build_id FROM phases p WHERE p.id = l.phase_id)
FROM (SELECT l.id, l.phase_id, l.kinds, l.texts, l.fingerprints FROM phase_event_lists l
      WHERE array_position(l.fingerprints, NULL) IS NOT NULL
      ORDER BY l.id LIMIT $1 FOR UPDATE SKIP LOCKED) AS l,
     unnest(l.kinds, l.texts, l.fingerprints) WITH ORDINALITY AS e(kind, text, fingerprint, n)
WHERE e.fingerprint IS NULL
ORDER BY 1
LIMIT $1`

// BackfillFingerprints fingerprints a batch of events stored without one, in one
// transaction.
func (s *Store) BackfillFingerprints(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.write(ctx, "backfill fingerprints", func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rs, err := tx.Query(ctx, unprinted, limit)
			if err != nil {
				return err
			}
			events, err := collect(rs, failuresql.UnprintedRows())
			if err != nil || len(events) == 0 {
				return err
			}
			ids, hashes, prints, builds := failuresql.BackfillBatch(events)
			b := &pgx.Batch{}
			queuePrints(b, nil, prints, now())
			b.Queue(`
UPDATE phase_event_lists l SET fingerprints = (
    SELECT array_agg(coalesce(u.hash, f.print) ORDER BY f.n)
    FROM unnest(l.fingerprints) WITH ORDINALITY AS f(print, n)
    LEFT JOIN unnest($1::bigint[], $2::text[]) AS u(id, hash) ON u.id = l.id * `+eventsPerList+` + f.n - 1)
WHERE l.id IN (SELECT DISTINCT u.id / `+eventsPerList+` FROM unnest($1::bigint[]) AS u(id))`, ids, hashes)
			for _, id := range builds {
				queueBuildPrints(b, id)
			}
			n = len(events)
			return tx.SendBatch(ctx, b).Close()
		})
	})
	return n, err
}

// ListFailures reads the top fingerprints. It reads some tens of thousands of rollup rows at
// most, from indexes: parallel workers, which the planner picks for a month's window, took
// longer to start on a busy host than the whole list takes without them (measured with
// BenchmarkFailures), so the query runs without.
func (s *Store) ListFailures(ctx context.Context, q store.FailureQuery) ([]store.Failure, error) {
	var list []store.Failure
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return err
		}
		rs, err := tx.Query(ctx, failures.Failures, failuresql.FailuresArgs(q, func(t time.Time) any { return t })...)
		if err != nil {
			return err
		}
		list, err = collect(rs, failuresql.Failures(utc))
		return err
	})
	return list, wrap("list failures", err)
}

// BuildFingerprints reads a build's fingerprints.
func (s *Store) BuildFingerprints(ctx context.Context, buildID int64, countOthers bool) ([]store.BuildFingerprint, error) {
	rs, err := s.pool.Query(ctx, failures.BuildPrintsFor(countOthers), buildID, store.MaxBuildFingerprints)
	if err != nil {
		return nil, wrap("build fingerprints", err)
	}
	list, err := collect(rs, failuresql.BuildPrints())
	if err != nil {
		return nil, wrap("build fingerprints", err)
	}
	if len(list) == 0 {
		if err := s.buildExists(ctx, buildID); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// FindReference finds the build a build is compared with.
func (s *Store) FindReference(ctx context.Context, q store.ReferenceQuery) (store.BuildRef, string, bool, error) {
	query, args := failures.ReferenceFor(q)
	var ref store.BuildRef
	var status string
	err := s.pool.QueryRow(ctx, query, args...).Scan(&ref.ID, &ref.SpecFullHash, &ref.SpecName, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return ref, "", false, s.buildExists(ctx, q.BuildID)
	}
	return ref, status, err == nil, wrap("find reference", err)
}

// ListKnownCauses reads every known cause, oldest first.
func (s *Store) ListKnownCauses(ctx context.Context) ([]store.KnownCause, error) {
	rs, err := s.pool.Query(ctx, failures.Causes, store.MaxKnownCauses)
	if err != nil {
		return nil, wrap("list known causes", err)
	}
	list, err := collect(rs, failuresql.Causes(utc))
	return list, wrap("list known causes", err)
}

// CreateKnownCause adds a known cause, unless the table is full.
func (s *Store) CreateKnownCause(ctx context.Context, c store.KnownCause) (store.KnownCause, error) {
	c.CreatedAt = now()
	err := s.pool.QueryRow(ctx, `
INSERT INTO known_causes (title, link, pattern, fingerprint, created_by, created_at)
SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT count(*) FROM known_causes) < $7
RETURNING id`, c.Title, c.Link, c.Pattern, c.Fingerprint, c.CreatedBy, c.CreatedAt, store.MaxKnownCauses).Scan(&c.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, failuresql.TooManyCauses()
	}
	return c, wrap("create known cause", err)
}

// DeleteKnownCause deletes a known cause.
func (s *Store) DeleteKnownCause(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM known_causes WHERE id = $1`, id)
	if err != nil {
		return wrap("delete known cause", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "There is no known cause %d.", id)
	}
	return nil
}
