package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/failuresql"
)

var failures = failuresql.New(
	func(n int) string { return "?" + strconv.Itoa(n) },
	// Times are passed in their stored form.
	func(param string) string { return param },
	failuresql.JoinEvents,
	// Without statistics the planner would rather walk the primary key through every
	// value of the dimension than read the last time from the rows the index finds.
	// Times are stored as fixed-width UTC text.
	failuresql.SpreadByDay("failure_spread sp INDEXED BY failure_spread_seen_idx",
		func(t string) string { return `substr(` + t + `, 1, 10)` }),
	failuresql.JoinEventByID,
)

// printRow is a fingerprint as the JSON parameter of upsertPrints.
type printRow struct {
	Hash   string `json:"hash"`
	Kind   string `json:"kind"`
	Class  string `json:"class"`
	Normal string `json:"normal"`
}

// upsertPrints adds the fingerprints that are new and sets the last-seen time of the rest.
// jsonb_each hands each object over in SQLite's binary form, which ->> reads without parsing
// its text again for every field (json_each: a quarter more CPU for the statement).
func upsertPrints(ctx context.Context, tx *sql.Tx, prints []fingerprint.Print, t string) error {
	if len(prints) == 0 {
		return nil
	}
	in := make([]printRow, len(prints))
	for i, p := range prints {
		in[i] = printRow{p.Hash, string(p.Kind), string(p.Class), p.Normal}
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO fingerprints (hash, kind, class, normal, first_seen, last_seen)
SELECT value->>'hash', value->>'kind', value->>'class', value->>'normal', ?2, ?2 FROM jsonb_each(?1) WHERE true
ON CONFLICT (hash) DO UPDATE SET last_seen = excluded.last_seen WHERE fingerprints.last_seen < excluded.last_seen`,
		jsonText(in), t)
	return err
}

// addPhasePrintsSQL adds the events of phase ?2, just written to build ?1, into the build's
// fingerprints. When no events were removed the build's counts are the old ones plus the
// phase's, and its example (the least id of an event that keeps its text) the lesser of
// the old one and the phase's: reading the phase's events alone gives what
// failures.FillBuild would write from all of the build's, without reading the events of
// its other phases again.
const addPhasePrintsSQL = `
INSERT INTO build_fingerprints (build_id, fingerprint, kind, events, example_event, seen_at, spec_id, env_id)
SELECT b.id, e.fingerprint, min(e.kind), count(*), min(e.id) FILTER (WHERE NOT e.text_in_log), min(b.created_at), min(b.spec_id), min(b.env_id)
FROM builds b CROSS JOIN phase_events e
WHERE b.id = ?1 AND e.phase_id = ?2 AND e.fingerprint IS NOT NULL
GROUP BY e.fingerprint
ORDER BY e.fingerprint
ON CONFLICT (build_id, fingerprint) DO UPDATE
SET events = build_fingerprints.events + excluded.events,
    example_event = min(build_fingerprints.example_event, excluded.example_event)`

// addBuildPrints brings a build's fingerprints up to date after the events of phase
// phaseID were added to it and none were removed.
func addBuildPrints(ctx context.Context, tx *sql.Tx, buildID, phaseID int64, events int) error {
	if events == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, addPhasePrintsSQL, buildID, phaseID)
	return err
}

// rewriteBuildPrints rewrites a build's fingerprints from its events.
func rewriteBuildPrints(ctx context.Context, tx *sql.Tx, buildID int64) error {
	if _, err := tx.ExecContext(ctx, failures.ClearBuild, buildID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, failures.FillBuild, buildID)
	return err
}

// unprinted are events stored without a fingerprint, for the backfill: ?1 the limit.
const unprinted = `
SELECT e.id, e.kind, e.text, p.build_id
FROM phase_events e JOIN phases p ON p.id = e.phase_id
WHERE e.fingerprint IS NULL
ORDER BY e.id
LIMIT ?1`

// BackfillFingerprints fingerprints a batch of events stored without one.
func (s *Store) BackfillFingerprints(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.write(ctx, "backfill fingerprints", func(tx *sql.Tx) error {
		rs, err := tx.QueryContext(ctx, unprinted, limit)
		if err != nil {
			return err
		}
		events, err := collect(rs, failuresql.UnprintedRows())
		if err != nil || len(events) == 0 {
			return err
		}
		ids, hashes, prints, builds := failuresql.BackfillBatch(events)
		if err := upsertPrints(ctx, tx, prints, now()); err != nil {
			return err
		}
		type set struct {
			ID   int64  `json:"id"`
			Hash string `json:"hash"`
		}
		sets := make([]set, len(ids))
		for i := range ids {
			sets[i] = set{ids[i], hashes[i]}
		}
		if _, err := tx.ExecContext(ctx, `
UPDATE phase_events SET fingerprint = u.value->>'hash'
FROM json_each(?1) AS u WHERE phase_events.id = u.value->>'id'`, jsonText(sets)); err != nil {
			return err
		}
		for _, id := range builds {
			if err := rewriteBuildPrints(ctx, tx, id); err != nil {
				return err
			}
		}
		n = len(events)
		return nil
	})
	return n, err
}

// ListFailures reads the top fingerprints.
func (s *Store) ListFailures(ctx context.Context, q store.FailureQuery) ([]store.Failure, error) {
	rs, err := s.db.Read.QueryContext(ctx, failures.Failures,
		failuresql.FailuresArgs(q, func(t time.Time) any { return t.UTC().Format(timeLayout) })...)
	if err != nil {
		return nil, wrap("list failures", err)
	}
	list, err := collect(rs, failuresql.Failures(parseTime))
	return list, wrap("list failures", err)
}

// BuildFingerprints reads a build's fingerprints.
func (s *Store) BuildFingerprints(ctx context.Context, buildID int64, countOthers bool) ([]store.BuildFingerprint, error) {
	rs, err := s.db.Read.QueryContext(ctx, failures.BuildPrintsFor(countOthers), buildID, store.MaxBuildFingerprints)
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
	err := s.db.Read.QueryRowContext(ctx, query, args...).Scan(&ref.ID, &ref.SpecFullHash, &ref.SpecName, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return ref, "", false, s.buildExists(ctx, q.BuildID)
	}
	return ref, status, err == nil, wrap("find reference", err)
}

// ListKnownCauses reads every known cause, oldest first.
func (s *Store) ListKnownCauses(ctx context.Context) ([]store.KnownCause, error) {
	rs, err := s.db.Read.QueryContext(ctx, failures.Causes, store.MaxKnownCauses)
	if err != nil {
		return nil, wrap("list known causes", err)
	}
	list, err := collect(rs, failuresql.Causes(parseTime))
	return list, wrap("list known causes", err)
}

// CreateKnownCause adds a known cause, unless the table is full.
func (s *Store) CreateKnownCause(ctx context.Context, c store.KnownCause) (store.KnownCause, error) {
	t := now()
	err := s.write(ctx, "create known cause", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM known_causes`).Scan(&n); err != nil {
			return err
		}
		if n >= store.MaxKnownCauses {
			return failuresql.TooManyCauses()
		}
		return tx.QueryRowContext(ctx, `
INSERT INTO known_causes (title, link, pattern, fingerprint, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
RETURNING id`, c.Title, c.Link, c.Pattern, c.Fingerprint, c.CreatedBy, t).Scan(&c.ID)
	})
	if err != nil {
		return c, err
	}
	c.CreatedAt, err = parseTime(t)
	return c, err
}

// DeleteKnownCause deletes a known cause.
func (s *Store) DeleteKnownCause(ctx context.Context, id int64) error {
	return s.write(ctx, "delete known cause", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM known_causes WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, errs.New(errs.NotFound, "There is no known cause %d.", id))
		}
		return nil
	})
}
