// Package pgtest gives each test a fresh, migrated PostgreSQL database.
//
// The server is the one SPACKMON_TEST_DATABASE_URL names (a URL that can create
// databases, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) or, when
// that is unset, a throw-away cluster this package starts with initdb and pg_ctl: it
// listens on a Unix socket in a temporary directory only, and lives as long as the test
// process. Each migration set is applied once per process to a template database; every
// test then gets a copy of it (CREATE DATABASE ... TEMPLATE), dropped when the test ends.
// Database names carry the process id and a random suffix, so test processes running at
// the same time against one server do not collide.
//
// A package using it declares
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// so that the templates are dropped and the throw-away cluster is stopped when its tests
// end. Should the process die first, a watchdog started with the cluster stops it anyway.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "SPACKMON_TEST_DATABASE_URL"

// MigrateFunc migrates the (empty) database at url.
type MigrateFunc func(ctx context.Context, url string) error

var (
	serverOnce sync.Once
	serverURL  string // admin URL of the server, ending in its maintenance database
	serverErr  error
	cluster    *localCluster // nil when EnvURL names the server

	templatesMu sync.Mutex
	templates   = map[string]*template{}

	dbCounter atomic.Int64
	runID     = fmt.Sprintf("%d_%s", os.Getpid(), randomSuffix())
)

type template struct {
	once sync.Once
	name string
	err  error
	// Cloning copies the template's files; one clone at a time keeps the server from
	// reporting the template as busy.
	cloneMu sync.Mutex
}

// Main runs the package's tests with Run and exits with their code.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run runs the package's tests, then drops this process's templates and stops the
// throw-away cluster if one was started.
func Run(m *testing.M) int {
	defer shutdown()
	return m.Run()
}

// NewDatabase returns the URL of a new database for t, a copy of the template that name
// identifies. The template is made by migrate on first use in this process; name must
// stand for one migrate function (for example "ingest").
func NewDatabase(t testing.TB, name string, migrate MigrateFunc) string {
	t.Helper()
	admin := server(t)
	tmpl := templateFor(t, admin, name, migrate)

	dbName := fmt.Sprintf("spackmon_t_%s_%d", runID, dbCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tmpl.cloneMu.Lock()
	err := adminExec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize()+
		" TEMPLATE "+pgx.Identifier{tmpl.name}.Sanitize())
	tmpl.cloneMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(t, admin, dbName) })
	return withDatabase(admin, dbName)
}

func server(t testing.TB) string {
	t.Helper()
	serverOnce.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			serverURL = u
			return
		}
		cluster, serverErr = startCluster()
		if serverErr == nil {
			serverURL = cluster.url
		}
	})
	if serverErr != nil {
		t.Fatalf("pgtest: %v", serverErr)
	}
	return serverURL
}

func templateFor(t testing.TB, admin, name string, migrate MigrateFunc) *template {
	t.Helper()
	templatesMu.Lock()
	tmpl, ok := templates[name]
	if !ok {
		tmpl = &template{name: fmt.Sprintf("spackmon_tmpl_%s_%s", identifierPart(name), runID)}
		templates[name] = tmpl
	}
	templatesMu.Unlock()

	tmpl.once.Do(func() { tmpl.err = createTemplate(admin, tmpl.name, migrate) })
	if tmpl.err != nil {
		t.Fatalf("pgtest: template %s: %v", name, tmpl.err)
	}
	return tmpl
}

func createTemplate(admin, name string, migrate MigrateFunc) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return err
	}
	if err := migrate(ctx, withDatabase(admin, name)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func dropDatabase(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// FORCE: a test that forgot to close a pool must not make the drop fail.
	if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

func shutdown() {
	if serverURL != "" && cluster == nil {
		dropTemplates()
	}
	if cluster != nil {
		if err := cluster.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
}

func dropTemplates() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	templatesMu.Lock()
	defer templatesMu.Unlock()
	for _, tmpl := range templates {
		err := adminExec(ctx, serverURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{tmpl.name}.Sanitize()+" WITH (FORCE)")
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: drop template:", err)
		}
	}
}

func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns base with its database replaced by name.
func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		// A keyword/value connection string: a later dbname wins.
		return base + " dbname=" + name
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

var notIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

func identifierPart(s string) string {
	s = notIdentifier.ReplaceAllString(strings.ToLower(s), "_")
	if len(s) > 20 {
		s = s[:20]
	}
	return s
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
