// Package readsql writes the read statements that are the same on PostgreSQL and SQLite
// but for how parameters are written and how text is matched case-insensitively: look-ups
// by id or hash, and the list queries, which carry only the filters in use so that the
// planner sees plain conditions it can use indexes for. The rows they return are read
// with the Readers of package rows.
//
// What a dialect does its own way (passing a set of values, writing several rows) stays
// in the store packages.
package readsql

import (
	"strings"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/pkg/tags"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// SQL writes the shared statements in one dialect. The fixed ones are written by New,
// once, so that drivers see the same text every time.
type SQL struct {
	param func(n int) string
	ilike func(column, pattern string) string
	// timeArg is a parameter holding a store.UpdatedKey text as a time comparable with the
	// time columns.
	timeArg func(param string) string
	// idSet and encodeIDs pass a set of ids as one parameter (WithIDSet).
	idSet     func(param string) string
	encodeIDs func(ids []int64) any
	// dependents reads spec_closure (WithDependents).
	dependents func(column, param string, probe bool) string
	// searchIn and searchMatch find a search's rows by an index (WithSearchIndex).
	searchIn    func(table, alias, param string) string
	searchMatch func(text string) any
	// hashPrefix matches a full hash by its start, given the argument hashArg makes from
	// the searched text: by default the store's case-insensitive LIKE of a rows.Prefix
	// pattern, or a form an index serves (WithHashPrefix).
	hashPrefix func(column, param string) string
	hashArg    func(text string) any
	// specHashIs is the condition that spec row s has the full hash or DAG hash of a
	// parameter (WithSpecHashIs).
	specHashIs func(param string) string

	// Build reads a build ($1 its id).
	Build string
	// BuildExists answers whether build $1 exists.
	BuildExists string
	// BuildSpec finds the spec a build is asked for: $1 its full hash or, failing that,
	// its DAG hash, $2 the spack version; id, full_hash and name of the oldest match.
	BuildSpec string
	// PhaseOutput reads output, output_null, output_bytes and output_pruned of phase $2 of build $1.
	PhaseOutput string
	// PhaseOutputSize reads the stored length of output, output_bytes, output_null and
	// output_pruned of phase $2 of build $1; both dialects find a stored value's length
	// without reading the value.
	PhaseOutputSize string
	// SpecDeps and SpecDependents read the links (rows.Links) of spec $1: its
	// dependencies in document order, and the specs that depend on it.
	SpecDeps, SpecDependents string
	// MatrixCounts counts the builds and failed concretizations of package $1
	// (rows.MatrixCounts).
	MatrixCounts string
}

// New writes the statements with param as the placeholder of the nth parameter (from 1),
// ilike as the condition that column matches a rows.Contains pattern, ignoring case, and
// timeArg as a parameter holding a store.UpdatedKey compared with a time column.
func New(param func(n int) string, ilike func(column, pattern string) string, timeArg func(param string) string) *SQL {
	p1, p2 := param(1), param(2)
	s := &SQL{
		param:           param,
		ilike:           ilike,
		hashPrefix:      ilike,
		hashArg:         func(text string) any { return rows.Prefix(text) },
		timeArg:         timeArg,
		MatrixCounts:    matrixCounts(p1),
		Build:           rows.BuildColumns + ` WHERE b.id = ` + p1,
		BuildExists:     `SELECT EXISTS (SELECT 1 FROM builds WHERE id = ` + p1 + `)`,
		PhaseOutput:     `SELECT output, output_null, output_bytes, output_pruned FROM phases WHERE build_id = ` + p1 + ` AND name = ` + p2,
		PhaseOutputSize: `SELECT COALESCE(length(output), 0), output_bytes, output_null, output_pruned FROM phases WHERE build_id = ` + p1 + ` AND name = ` + p2,
		SpecDeps: `
SELECT c.name, c.full_hash, c.version, d.types
FROM spec_dependencies d JOIN specs c ON c.id = d.dep_id
WHERE d.spec_id = ` + p1 + ` ORDER BY d.position, c.id`,
		SpecDependents: `
SELECT p.name, p.full_hash, p.version, d.types
FROM spec_dependencies d JOIN specs p ON p.id = d.spec_id
WHERE d.dep_id = ` + p1 + ` ORDER BY p.id`,
	}
	return s.WithSpecHashIs(func(param string) string {
		return "(s.full_hash = " + param + " OR s.hash = " + param + ")"
	})
}

// WithSpecHashIs tells the statements how the dialect finds a spec by a hash that is its
// full hash or its DAG hash: is is the condition that the specs row s has the hash of the
// parameter param.
func (s *SQL) WithSpecHashIs(is func(param string) string) *SQL {
	s.specHashIs = is
	p1, p2 := s.param(1), s.param(2)
	s.BuildSpec = `
SELECT s.id, s.full_hash, s.name FROM specs s
WHERE ` + is(p1) + ` AND s.spack_version = ` + p2 + `
ORDER BY s.full_hash = ` + p1 + ` DESC, s.id
LIMIT 1`
	return s
}

// matrixSpecColumns are the version, compiler and platform-os of specs s with compilers c
// and architectures a.
const matrixSpecColumns = `s.version,
       COALESCE(c.name || CASE WHEN c.version = '' THEN '' ELSE '@' || c.version END, ''),
       COALESCE(a.platform || '-' || a.platform_os, '')`

func matrixCounts(name string) string {
	return `
SELECT ` + matrixSpecColumns + `, b.status, COUNT(*)
FROM builds b
JOIN specs s ON s.id = b.spec_id
LEFT JOIN compilers c ON c.id = s.compiler_id
LEFT JOIN architectures a ON a.id = s.arch_id
WHERE s.name = ` + name + `
GROUP BY 1, 2, 3, 4` + failedConcretizationCounts(name)
}

// MatrixCountsBySpec is the MatrixCounts query that counts each spec's builds by status
// before it joins the spec's version, compiler and platform to the counts: those are looked
// up and grouped once per spec rather than once per build. SQLite's store reads it, with
// the (spec_id, status) index of its migration 00016 (PostgreSQL's query is unchanged).
func MatrixCountsBySpec(name string) string {
	return `
SELECT ` + matrixSpecColumns + `, x.status, SUM(x.n)
FROM (
  SELECT b.spec_id, b.status, COUNT(*) AS n
  FROM specs ms CROSS JOIN builds b
  WHERE ms.name = ` + name + ` AND b.spec_id = ms.id
  GROUP BY b.spec_id, b.status
) x
JOIN specs s ON s.id = x.spec_id
LEFT JOIN compilers c ON c.id = s.compiler_id
LEFT JOIN architectures a ON a.id = s.arch_id
GROUP BY 1, 2, 3, 4` + failedConcretizationCounts(name)
}

// failedConcretizationCounts is the part of the matrix that counts the specs of package
// name that Spack could not concretize.
func failedConcretizationCounts(name string) string {
	return `
UNION ALL
SELECT ` + matrixSpecColumns + `, '` + store.FailedConcretization + `', COUNT(*)
FROM specs s
LEFT JOIN compilers c ON c.id = s.compiler_id
LEFT JOIN architectures a ON a.id = s.arch_id
WHERE s.name = ` + name + ` AND s.failed_concretization
GROUP BY 1, 2, 3`
}

// SpecBuildsOf is the query of SpecBuilds (rows.SpecBuilds): hashIn is the condition that
// s.full_hash is one of the full hashes asked for, perSpec the placeholder of how many
// builds of each to give.
func SpecBuildsOf(hashIn, perSpec string) string {
	return `
SELECT full_hash, id, status FROM (
  SELECT s.full_hash, b.id, b.status, ROW_NUMBER() OVER (PARTITION BY s.full_hash ORDER BY b.id DESC) AS n
  FROM specs s JOIN builds b ON b.spec_id = s.id
  WHERE ` + hashIn + `
) newest
WHERE n <= ` + perSpec + `
ORDER BY full_hash, id DESC`
}

// SpecDepsOf reads the dependencies (rows.OwnedLinks) of every spec whose id idSet yields,
// idSet being the dialect's way of passing a set: in document order, each row led by the id
// of its spec.
func SpecDepsOf(idSet string) string {
	return `
SELECT d.spec_id, c.name, c.full_hash, c.version, d.types
FROM spec_dependencies d JOIN specs c ON c.id = d.dep_id
WHERE d.spec_id IN (` + idSet + `) ORDER BY d.spec_id, d.position, c.id`
}

// where is a WHERE clause being put together, with its arguments.
type where struct {
	sql   *SQL
	conds []string
	args  []any
}

// add adds cond with its argument; every ? in cond stands for arg.
func (w *where) add(cond string, arg any) {
	w.conds = append(w.conds, strings.ReplaceAll(cond, "?", w.arg(arg)))
}

// arg adds an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return w.sql.param(len(w.args))
}

// query is from with the conditions, then rest, which may hold placeholders from arg.
func (w *where) query(from, rest string) string {
	if len(w.conds) == 0 {
		return from + rest
	}
	return from + " WHERE " + strings.Join(w.conds, " AND ") + rest
}

// ListBuilds is the query of ListBuilds (rows.Builds): newest first, after q.AfterID.
func (s *SQL) ListBuilds(q store.BuildQuery) (string, []any) {
	w := where{sql: s}
	if q.Status != "" {
		w.add("b.status = ?", q.Status)
	}
	if q.Tag != "" {
		w.add(`EXISTS (SELECT 1 FROM build_tags bt JOIN tags tg ON tg.id = bt.tag_id
		             WHERE bt.build_id = b.id AND tg.folded = ?)`, tags.Fold(q.Tag))
	}
	if q.SpecName != "" {
		w.add("s.name = ?", q.SpecName)
	}
	if q.SpecID > 0 {
		w.add("b.spec_id = ?", q.SpecID)
	}
	if q.Version != "" {
		w.add("s.version = ?", q.Version)
	}
	if q.Compiler != "" {
		w.add("(c.name || CASE WHEN c.version = '' THEN '' ELSE '@' || c.version END) = ?", q.Compiler)
	}
	if q.Owner != "" {
		w.add("b.owner = ?", q.Owner)
	}
	switch q.Source {
	case "":
	case store.SourceMS1:
		w.conds = append(w.conds, "cb.build_id IS NULL")
	default:
		w.add("cb.source = ?", q.Source)
	}
	if q.Project != "" {
		w.add("cb.project = ?", q.Project)
	}
	if q.Site != "" {
		w.add("cb.site = ?", q.Site)
	}
	if q.Dependency != nil {
		w.dependentsOf("b.spec_id", q.DependencyIDs)
	}
	if q.Hostname != "" {
		w.add("e.hostname = ?", q.Hostname)
	}
	if q.SpackVersion != "" {
		w.add("s.spack_version = ?", q.SpackVersion)
	}
	if q.Text != "" {
		s.addTextMatch(&w, q.Text)
	}
	column, desc := orderColumn(q.Order)
	if column == "" {
		if q.AfterID > 0 {
			w.add("b.id < ?", q.AfterID)
		}
		return w.query(rows.BuildColumns, " ORDER BY b.id DESC LIMIT "+w.arg(page.Size(q.Limit))), w.args
	}
	if q.AfterID > 0 {
		key := w.arg(q.AfterKey)
		if q.Order == store.OrderUpdated {
			key = s.timeArg(key)
		}
		past := " > "
		if desc {
			past = " < "
		}
		w.conds = append(w.conds, "("+column+past+key+" OR ("+column+" = "+key+" AND b.id < "+w.arg(q.AfterID)+"))")
	}
	dir := ""
	if desc {
		dir = " DESC"
	}
	return w.query(rows.BuildColumns, " ORDER BY "+column+dir+", b.id DESC LIMIT "+w.arg(page.Size(q.Limit))), w.args
}

// textMatch is the condition of a search: pattern is the parameter of the rows.Contains
// pattern, hash the condition on a spec's full hash (WithHashPrefix), and narrow(table,
// alias) a condition (ending in AND) that narrows the rows of table read, or ""
// (WithSearchIndex). Each table
// is searched on its own for its matching rows, which a text index finds where there is one
// (migration 00013), and the builds are found from those rows by their indexes: a search
// costs what it matches. Matching the joined row of every build instead read all of them,
// newest first, when few matched (at 100,000 builds on SQLite, 155 ms of CPU for a hash or
// a missing word, against 20 ms now). A compiler's builds are a join of their own: in one
// set with the specs matched by name, their estimate (all specs of a compiler) had
// PostgreSQL read every build for any search. CROSS JOIN holds SQLite to starting from the
// compilers (it read every build otherwise: 60 against 17 ms of CPU for a missing word),
// and likewise from the tags (it read all 100,000 build_tags rows: 21 against 2 ms once the
// other tables were indexed); PostgreSQL orders them as any join.
func (s *SQL) textMatch(pattern, hash string, narrow func(table, alias string) string) string {
	m := func(column string) string { return s.ilike(column, pattern) }
	return `b.id IN (
	    SELECT mb.id FROM builds mb WHERE mb.spec_id IN (
	        SELECT ts.id FROM specs ts WHERE ` + narrow("specs", "ts") + `(` + m("ts.name") + ` OR ` + m("ts.version") + `)
	        UNION SELECT ts.id FROM specs ts WHERE ` + hash + `)
	    UNION SELECT mb.id FROM compilers tc CROSS JOIN specs ts CROSS JOIN builds mb
	    WHERE ts.compiler_id = tc.id AND mb.spec_id = ts.id AND ` + m("(tc.name || '@' || tc.version)") + `
	    UNION SELECT mb.id FROM builds mb
	    WHERE mb.env_id IN (SELECT te.id FROM build_environments te WHERE ` + narrow("build_environments", "te") + m("te.hostname") + `)
	    UNION SELECT tb.build_id FROM cdash_builds tb WHERE ` + narrow("cdash_builds", "tb") + `(` + m("tb.build_name") + ` OR ` + m("tb.project") + `)
	    UNION SELECT bt.build_id FROM tags tg CROSS JOIN build_tags bt WHERE bt.tag_id = tg.id AND ` + m("tg.name") + `)`
}

// orderColumn is the column a ListBuilds order sorts by, and whether it sorts descending;
// "" for newest first by id.
func orderColumn(order string) (string, bool) {
	switch order {
	case store.OrderUpdated:
		return "b.updated_at", true
	case store.OrderName:
		return "s.name", false
	case store.OrderStatus:
		return "b.status", false
	}
	return "", false
}

// ListSpecs is the query of ListSpecs (rows.Specs): by id, after q.AfterID.
func (s *SQL) ListSpecs(q store.SpecQuery) (string, []any) {
	w := where{sql: s}
	if q.Name != "" {
		w.add("s.name = ?", q.Name)
	}
	if q.Version != "" {
		w.add("s.version = ?", q.Version)
	}
	if q.SpackVersion != "" {
		w.add("s.spack_version = ?", q.SpackVersion)
	}
	if q.DependsOn != nil {
		w.dependentsOf("s.id", q.DependsOnIDs)
	}
	if q.AfterID > 0 {
		w.add("s.id > ?", q.AfterID)
	}
	return w.query(rows.SpecColumns, " ORDER BY s.id LIMIT "+w.arg(page.Size(q.Limit))), w.args
}

// GetSpec is the query of GetSpec (rows.Specs): the spec whose full hash, or else DAG
// hash, is hash, under spackVersion unless that is "", the most recently created first.
func (s *SQL) GetSpec(hash, spackVersion string) (string, []any) {
	w := where{sql: s}
	w.add(s.specHashIs("?"), hash)
	if spackVersion != "" {
		w.add("s.spack_version = ?", spackVersion)
	}
	return w.query(rows.SpecColumns, " ORDER BY s.full_hash = "+s.param(1)+" DESC, s.created_at DESC, s.id DESC LIMIT 1"), w.args
}

// EventPhases is the query of the phases ListEvents reads (rows.EventPhases): build
// buildID's phases from the one with id fromPhase on, in phase order.
func (s *SQL) EventPhases(buildID, fromPhase int64) (string, []any) {
	w := where{sql: s}
	w.add("p.build_id = ?", buildID)
	w.add("p.id >= ?", fromPhase)
	return w.query("SELECT p.id, p.name FROM phases p", " ORDER BY p.id"), w.args
}

// PhaseEvents is the query of one phase's part of a ListEvents page (rows.Events): the
// events of phase phaseID, of kind unless that is "", that come after (lineNo, id) in line
// order, at most limit of them. SQLite reads phase_events_phase_idx (phase_id, line_no) in
// order from (phaseID, lineNo); PostgreSQL unnests the phase's one list (migration 00018;
// parsing keeps about a thousand events of a phase at most).
func (s *SQL) PhaseEvents(phaseID int64, kind logparse.Kind, lineNo, id int64, limit int) (string, []any) {
	w := where{sql: s}
	w.add("e.phase_id = ?", phaseID)
	l := w.arg(lineNo)
	// The first condition is implied by the second; it is there for the planner, which
	// makes it the start of the index range.
	w.conds = append(w.conds, "e.line_no >= "+l, "(e.line_no > "+l+" OR (e.line_no = "+l+" AND e.id > "+w.arg(id)+"))")
	if kind != "" {
		w.add("e.kind = ?", string(kind))
	}
	return w.query(rows.EventColumns, " ORDER BY e.line_no, e.id LIMIT "+w.arg(limit)), w.args
}
