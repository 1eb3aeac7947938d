package sqlite

import (
	"context"
	"database/sql"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/sqlitetest"
	"github.com/spackmon/spackmon/services/ingest/migrations"
)

// scanOf matches a plan line that reads a whole relation, capturing its name in the plan.
var scanOf = regexp.MustCompile(`^SCAN (\w+)`)

// TestWritePlansSearch guards the write path against plans that read a whole table: the
// cost of such a statement grows with everything stored, on every write. The planner
// has no statistics on a new file (nothing runs ANALYZE), which is how a server's file
// starts. The statements are every SQL text the package's writes run (writeStatements),
// the ones built elsewhere, and each statement of the schema's triggers, which run inside
// the writes. Each statement may scan its JSON parameters (table-valued functions) and
// what it names: its CTEs.
func TestWritePlansSearch(t *testing.T) {
	sq := Migrated(t)
	type statement struct {
		name, query string
		mayScan     []string
	}
	statements := []statement{
		{"insert specs", insertSpecsSQL, nil},
		{"fill stub", fillStubSQL, nil},
		{"insert edges", insertEdgesSQL, nil},
		{"document closure", documentClosureSQL, []string{"n"}},
		{"propagate closure", propagateClosureSQL, []string{"below"}},
		{"bound frontier pairs", frontierCountSQL, []string{"n", "r", "f"}},
		{"count frontier pairs", frontierPairsSQL, []string{"n"}},
		{"count propagated pairs", propagateCountSQL, []string{"below"}},
		{"clear build fingerprints", failures.ClearBuild, nil},
		{"fill build fingerprints", failures.FillBuild, nil},
		{"build status", buildStatusSQL, nil},
		{"cdash info", cdashInfoSQL, nil},
		{"stored spec", storedSpecSQL, nil},
		{"delete builds", deleteBuilds, nil},
		{"drop logs", dropLogs, nil},
		{"event log", eventLog, nil},
		{"event log size", eventLogSize, nil},
	}
	for _, q := range writeStatements(t) {
		name := firstLine(q)
		statements = append(statements, statement{name: name, query: q, mayScan: allowedScans[name]})
	}
	triggers := triggerStatements(t, sq.Write)
	if len(triggers) < 10 {
		t.Fatalf("found %d trigger statements", len(triggers))
	}
	for _, q := range triggers {
		statements = append(statements, statement{name: "trigger " + firstLine(q), query: q})
	}
	for _, tc := range statements {
		t.Run(tc.name, func(t *testing.T) {
			// Unbound parameters are null: the plan does not depend on them without
			// statistics.
			plan := explain(t, sq.Write, tc.query, make([]any, params(tc.query))...)
			var subqueries []string
			for _, line := range plan {
				if m := subquery.FindStringSubmatch(line); m != nil {
					subqueries = append(subqueries, m[1])
				}
				m := scanOf.FindStringSubmatch(line)
				if m != nil && !strings.Contains(line, "VIRTUAL TABLE") && line != "SCAN CONSTANT ROW" &&
					!slices.Contains(subqueries, m[1]) && !slices.Contains(tc.mayScan, m[1]) {
					t.Errorf("plan reads a whole relation: %q\n%s\n%s", line, strings.Join(plan, "\n"), tc.query)
				}
			}
		})
	}
}

// subquery matches the plan line of a subquery, whose rows a later line scans: the
// subquery's own lines are checked.
var subquery = regexp.MustCompile(`^(?:CO-ROUTINE|MATERIALIZE) (\w+)`)

// allowedScans are the relations a statement found by writeStatements (named by firstLine)
// may scan.
var allowedScans = map[string][]string{
	// The known causes are few: store.MaxKnownCauses.
	"SELECT count(*) FROM known_causes": {"known_causes"},
	// A parent row written by a statement of several rows plans a scan of the child rows
	// that might refer to it, which runs only while a foreign key violation is
	// outstanding (OP_FkIfZero): never, as every constraint is immediate.
	"INSERT INTO targets (name, vendor, generation, features, par": {"architectures"},
	"INSERT INTO architectures (platform, platform_os, target_id)": {"specs"},
}

// writeStatements is every SQL text in the package's source that a write runs: the
// INSERT, UPDATE and DELETE literals, and the literals passed to a transaction (or a
// querier, which a write passes its transaction as) and to getOrCreate. Statements built
// by concatenation or elsewhere are listed by TestWritePlansSearch.
func writeStatements(t *testing.T) []string {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	add := func(e ast.Expr) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		q, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		if q = strings.TrimSpace(q); !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				// Pieces of a statement built by concatenation (listed whole above).
				return n.Op != token.ADD
			case *ast.BasicLit:
				if n.Kind == token.STRING && writeVerb.MatchString(n.Value) {
					add(n)
				}
			case *ast.CallExpr:
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					if recv, ok := fn.X.(*ast.Ident); ok && (recv.Name == "tx" || recv.Name == "q") &&
						strings.HasSuffix(fn.Sel.Name, "Context") && len(n.Args) > 1 {
						add(n.Args[1])
					}
				case *ast.Ident:
					if fn.Name == "getOrCreate" && len(n.Args) == 6 {
						add(n.Args[2])
						add(n.Args[4])
					}
				}
			}
			return true
		})
	}
	if len(out) < 20 {
		t.Fatalf("found %d write statements", len(out))
	}
	return out
}

// writeVerb matches a Go string literal holding a statement that writes.
var writeVerb = regexp.MustCompile("^[`\"]\\s*(INSERT|UPDATE|DELETE) ")

// triggerStatements is each statement of the schema's triggers, the row the trigger fires
// for (NEW, OLD) made parameters.
func triggerStatements(t *testing.T, q *sql.DB) []string {
	rs, err := q.Query(`SELECT sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var def string
		if err := rs.Scan(&def); err != nil {
			t.Fatal(err)
		}
		_, body, ok := strings.Cut(def, "\nBEGIN")
		body, _, ok2 := strings.Cut(body, "\nEND")
		if !ok || !ok2 {
			t.Fatalf("trigger without BEGIN and END lines: %s", def)
		}
		for _, st := range strings.Split(body, ";") {
			if st = strings.TrimSpace(st); st != "" {
				out = append(out, rowRef.ReplaceAllString(st, "?"))
			}
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var rowRef = regexp.MustCompile(`\b(NEW|OLD)\.\w+`)

// params is the number of parameters of query: its highest ?N, else its ?s.
func params(query string) int {
	n := 0
	for _, m := range numbered.FindAllStringSubmatch(query, -1) {
		v, _ := strconv.Atoi(m[1])
		n = max(n, v)
	}
	if n > 0 {
		return n
	}
	return strings.Count(query, "?")
}

var numbered = regexp.MustCompile(`\?(\d+)`)

// firstLine names a statement by the start of its first line.
func firstLine(q string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(q), "\n")
	if len(line) > 60 {
		line = line[:60]
	}
	return line
}

func TestMain(m *testing.M) { sqlitetest.Main(m) }

// Migrated opens a migrated database file in a directory of its own; exported for the
// tests of package sqlite_test.
func Migrated(tb testing.TB) *db.SQLite {
	return sqlitetest.Open(tb, "ingest", "ingest.db", func(sq *db.SQLite) error {
		return db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
			db.WithVersionTable(migrations.VersionTable))
	})
}
