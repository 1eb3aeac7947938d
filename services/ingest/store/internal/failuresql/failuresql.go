// Package failuresql writes the statements of the failure fingerprints (store.FailureStore)
// that are the same on PostgreSQL and SQLite but for their parameters and time values, and
// reads the rows they return.
package failuresql

import (
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/tags"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// SQL holds the statements in one dialect.
type SQL struct {
	// ClearBuild and FillBuild rewrite the build fingerprints of build $1 from its events.
	ClearBuild, FillBuild string
	// Failures is the failure list, or one fingerprint's row of it: its parameters are
	// FailuresArgs.
	Failures string
	// BuildPrints is the fingerprints of build $1, $2 the limit, and BuildPrintsCounted the
	// same with the number of other builds of each.
	BuildPrints, BuildPrintsCounted string
	// Reference, ReferenceBySpec and ReferenceByTag find the reference of build $1 ($2 the
	// folded tag of the last).
	Reference, ReferenceBySpec, ReferenceByTag string
	// Causes lists the known causes, $1 the limit.
	Causes string
}

// JoinEvents joins the events e of phase p with a plain join, which SQLite plans with the
// phase_events index whatever its statistics.
const JoinEvents = `JOIN phase_events e ON e.phase_id = p.id`

// JoinEventByID joins as pe the event whose id is the expression id.
func JoinEventByID(id string) string { return `JOIN phase_events pe ON pe.id = ` + id }

// New writes the statements with param as the placeholder of the nth parameter and timeArg
// as a parameter holding a time, as the store passes times, compared with a time column;
// joinEvents joins the events e of the phases p of one build (JoinEvents, or a form that
// holds the dialect's planner to the phase_events index); spread counts a fingerprint's
// values seen since a time (SpreadByDay); eventByID joins as pe, with its id, phase_id,
// line_no and text, the event whose id is an expression (JoinEventByID, or a form that
// finds it in the dialect's storage).
func New(param func(n int) string, timeArg func(param string) string, joinEvents string, spread func(dim, since string) string,
	eventByID func(id string) string) *SQL {
	p1, p2, p3, p4, p5, p6, p7 := param(1), param(2), param(3), param(4), param(5), param(6), param(7)
	since := timeArg(p2)
	onePrint := `(` + param(8) + ` = '' OR fingerprint = ` + param(8) + `)`
	return &SQL{
		// ClearBuild deletes only the fingerprints the build no longer has and FillBuild
		// updates the rest in place, so that the rollup triggers (migration 00009) see only
		// what changed; both go in fingerprint order, the order every writer locks rollup
		// rows in.
		ClearBuild: `
DELETE FROM build_fingerprints WHERE build_id = ` + p1 + ` AND fingerprint NOT IN (
    SELECT e.fingerprint FROM phases p ` + joinEvents + `
    WHERE p.build_id = ` + p1 + ` AND e.fingerprint IS NOT NULL)`,
		// A row whose counts did not change is left alone: rewriting it would only leave a
		// dead row behind on PostgreSQL and dirty a page on SQLite. The example is the
		// first event of the fingerprint that keeps its text (rows.StoredEvents).
		FillBuild: `
INSERT INTO build_fingerprints (build_id, fingerprint, kind, events, example_event, seen_at, spec_id, env_id)
SELECT p.build_id, e.fingerprint, min(e.kind), count(*), min(e.id) FILTER (WHERE NOT e.text_in_log), min(b.created_at), min(b.spec_id), min(b.env_id)
FROM builds b JOIN phases p ON p.build_id = b.id ` + joinEvents + `
WHERE p.build_id = ` + p1 + ` AND e.fingerprint IS NOT NULL
GROUP BY p.build_id, e.fingerprint
ORDER BY e.fingerprint
ON CONFLICT (build_id, fingerprint) DO UPDATE SET events = excluded.events, example_event = excluded.example_event
WHERE build_fingerprints.events <> excluded.events OR build_fingerprints.example_event <> excluded.example_event`,
		// The window's builds per fingerprint come from the rollup (migration 00009): the
		// part of its first day that is in it from build_fingerprints, then whole days,
		// then whole months. Only the top fingerprints then get their distinct packages,
		// compilers and hosts (values whose newest build is in the window) and their
		// example, the first event of their newest build in the window.
		Failures: `
WITH w AS (
    SELECT fingerprint, count(*) AS builds FROM build_fingerprints
    WHERE kind = ` + p1 + ` AND seen_at >= ` + since + ` AND seen_at < ` + timeArg(p3) + ` AND ` + onePrint + `
    GROUP BY fingerprint
    UNION ALL
    SELECT fingerprint, builds FROM failure_days WHERE kind = ` + p1 + ` AND day >= ` + p4 + ` AND day < ` + p5 + ` AND ` + onePrint + `
    UNION ALL
    SELECT fingerprint, builds FROM failure_months WHERE kind = ` + p1 + ` AND month >= ` + p6 + ` AND ` + onePrint + `),
t AS (
    SELECT fingerprint, sum(builds) AS builds FROM w GROUP BY fingerprint
    ORDER BY builds DESC, fingerprint
    LIMIT ` + p7 + `)
SELECT t.fingerprint, f.kind, f.class, f.normal, f.first_seen, f.last_seen, t.builds,
       ` + spread("package", since) + `, ` + spread("compiler", since) + `, ` + spread("host", since) + `,
       x.build_id, pe.id, p.name, pe.line_no, pe.text
FROM t JOIN fingerprints f ON f.hash = t.fingerprint
JOIN build_fingerprints x ON x.fingerprint = t.fingerprint AND x.build_id = (
    SELECT y.build_id FROM build_fingerprints y WHERE y.fingerprint = t.fingerprint AND y.seen_at >= ` + since + `
    ORDER BY y.build_id DESC LIMIT 1)
` + eventByID("x.example_event") + `
JOIN phases p ON p.id = pe.phase_id
ORDER BY t.builds DESC, t.fingerprint`,
		BuildPrints:        buildPrints(p1, p2, "0", eventByID),
		BuildPrintsCounted: buildPrints(p1, p2, "(SELECT count(*) FROM build_fingerprints o WHERE o.fingerprint = bf.fingerprint) - 1", eventByID),
		Reference:          reference(p1, `s.name = ms.name AND `+same("s.compiler_id", "ms.compiler_id")+` AND `+same("s.arch_id", "ms.arch_id")),
		ReferenceBySpec:    reference(p1, `b.spec_id = me.spec_id`),
		ReferenceByTag: reference(p1, `s.name = ms.name AND EXISTS (
    SELECT 1 FROM build_tags bt JOIN tags tg ON tg.id = bt.tag_id WHERE bt.build_id = b.id AND tg.folded = `+p2+`)`),
		Causes: `
SELECT id, title, link, pattern, fingerprint, created_by, created_at FROM known_causes ORDER BY id LIMIT ` + p1,
	}
}

// SpreadByDay counts the values of dimension dim of fingerprint t.fingerprint that have a
// build at or after since through the index of each value's last day,
// failure_spread_seen_idx: the values last seen on a day after since's from the index
// alone, those of since's own day from their rows. from names failure_spread as sp (with
// the index, where the dialect's planner needs it named); dayOf is the UTC day of a time,
// as last_day holds it.
func SpreadByDay(from string, dayOf func(t string) string) func(dim, since string) string {
	return func(dim, since string) string {
		count := `(SELECT count(*) FROM ` + from + ` WHERE sp.fingerprint = t.fingerprint AND sp.dim = '` + dim + `' AND `
		day := dayOf(since)
		return `(` + count + `sp.last_day > ` + day + `) + ` + count + `sp.last_day = ` + day + ` AND sp.last_seen >= ` + since + `))`
	}
}

// Window is how FailuresArgs splits a window starting at since: the part of its first day
// read from build_fingerprints ends at RawEnd; whole days run from the day key FirstDay up to
// the day key MonthStart (the first of a month), and whole months from the month key
// FirstMonth on.
type Window struct {
	RawEnd                           time.Time
	FirstDay, MonthStart, FirstMonth string
}

// SplitWindow splits the window that starts at since (UTC days and months).
func SplitWindow(since time.Time) Window {
	since = since.UTC()
	day := time.Date(since.Year(), since.Month(), since.Day(), 0, 0, 0, 0, time.UTC)
	if day.Before(since) {
		day = day.AddDate(0, 0, 1)
	}
	month := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	if month.Before(day) {
		month = month.AddDate(0, 1, 0)
	}
	return Window{RawEnd: day, FirstDay: day.Format(time.DateOnly), MonthStart: month.Format(time.DateOnly),
		FirstMonth: month.Format("2006-01")}
}

// FailuresArgs is the arguments of SQL.Failures, times passed through asTime as the store
// passes them.
func FailuresArgs(q store.FailureQuery, asTime func(time.Time) any) []any {
	w := SplitWindow(q.Since)
	return []any{string(q.Kind), asTime(q.Since.UTC()), asTime(w.RawEnd), w.FirstDay, w.MonthStart, w.FirstMonth, q.Limit, q.Fingerprint}
}

// buildPrints reads the fingerprints of build p1, at most p2, with others as the number of
// other builds of each.
func buildPrints(p1, p2, others string, eventByID func(id string) string) string {
	return `
SELECT bf.fingerprint, f.kind, f.class, f.normal, bf.events, ` + others + `,
       bf.build_id, pe.id, p.name, pe.line_no, pe.text
FROM build_fingerprints bf JOIN fingerprints f ON f.hash = bf.fingerprint
` + eventByID("bf.example_event") + `
JOIN phases p ON p.id = pe.phase_id
WHERE bf.build_id = ` + p1 + `
ORDER BY f.kind, bf.example_event
LIMIT ` + p2
}

// BuildPrintsFor is the statement reading a build's fingerprints.
func (s *SQL) BuildPrintsFor(countOthers bool) string {
	if countOthers {
		return s.BuildPrintsCounted
	}
	return s.BuildPrints
}

// same is the condition that two nullable columns hold the same value, in both dialects.
func same(a, b string) string {
	return `(` + a + ` = ` + b + ` OR (` + a + ` IS NULL AND ` + b + ` IS NULL))`
}

// reference is the latest build earlier than build p1 for which cond holds, b being the
// candidate with spec s and me the build with spec ms.
func reference(p1, cond string) string {
	return `
SELECT b.id, s.full_hash, s.name, b.status
FROM builds me JOIN specs ms ON ms.id = me.spec_id, builds b JOIN specs s ON s.id = b.spec_id
WHERE me.id = ` + p1 + ` AND b.id < me.id AND ` + cond + `
ORDER BY b.id DESC
LIMIT 1`
}

// Failures reads the rows of SQL.Failures.
func Failures[T any](toTime func(T) (time.Time, error)) rows.Reader[store.Failure] {
	v := new(struct {
		f           store.Failure
		kind, class string
		first, last T
	})
	return rows.NewReader([]any{&v.f.Hash, &v.kind, &v.class, &v.f.Normal, &v.first, &v.last, &v.f.Builds,
		&v.f.Packages, &v.f.Compilers, &v.f.Hosts, &v.f.Example.BuildID, &v.f.Example.EventID, &v.f.Example.Phase,
		&v.f.Example.LineNo, &v.f.Example.Text},
		func() (store.Failure, error) {
			f := v.f
			f.Kind, f.Class = logparse.Kind(v.kind), fingerprint.Class(v.class)
			var err error
			if f.FirstSeen, err = toTime(v.first); err != nil {
				return f, err
			}
			f.LastSeen, err = toTime(v.last)
			return f, err
		})
}

// BuildPrints reads the rows of SQL.BuildPrints.
func BuildPrints() rows.Reader[store.BuildFingerprint] {
	v := new(struct {
		f           store.BuildFingerprint
		kind, class string
	})
	return rows.NewReader([]any{&v.f.Hash, &v.kind, &v.class, &v.f.Normal, &v.f.Events, &v.f.OtherBuilds,
		&v.f.Example.BuildID, &v.f.Example.EventID, &v.f.Example.Phase, &v.f.Example.LineNo, &v.f.Example.Text},
		func() (store.BuildFingerprint, error) {
			f := v.f
			f.Kind, f.Class = logparse.Kind(v.kind), fingerprint.Class(v.class)
			return f, nil
		})
}

// Causes reads the rows of SQL.Causes.
func Causes[T any](toTime func(T) (time.Time, error)) rows.Reader[store.KnownCause] {
	v := new(struct {
		c       store.KnownCause
		created T
	})
	return rows.NewReader([]any{&v.c.ID, &v.c.Title, &v.c.Link, &v.c.Pattern, &v.c.Fingerprint, &v.c.CreatedBy, &v.created},
		func() (store.KnownCause, error) {
			c := v.c
			var err error
			c.CreatedAt, err = toTime(v.created)
			return c, err
		})
}

// UnprintedRows reads the rows of a backfill's statement: id, kind, text and build_id.
func UnprintedRows() rows.Reader[Stored] {
	v := new(Stored)
	return rows.NewReader([]any{&v.ID, &v.Kind, &v.Text, &v.BuildID}, func() (Stored, error) { return *v, nil })
}

// ReferenceFor is the statement and arguments that find the reference q asks for.
func (s *SQL) ReferenceFor(q store.ReferenceQuery) (string, []any) {
	switch q.By {
	case store.ReferenceSameSpec:
		return s.ReferenceBySpec, []any{q.BuildID}
	case store.ReferenceSameTag:
		return s.ReferenceByTag, []any{q.BuildID, tags.Fold(q.Tag)}
	}
	return s.Reference, []any{q.BuildID}
}

// TooManyCauses is the error of a known cause beyond store.MaxKnownCauses.
func TooManyCauses() error {
	return errs.New(errs.BadRequest, "There are already %d known causes: delete some first.", store.MaxKnownCauses)
}
