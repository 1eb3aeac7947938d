// Package sqlitetest gives each test a migrated SQLite database file of its own, copied
// from a template that each migration set makes once per test process, as pgtest does for
// PostgreSQL. Migrating anew for every test cost about half a second each under the race
// detector, which runs SQLite's translated C instrumented.
//
// A package using it declares
//
//	func TestMain(m *testing.M) { sqlitetest.Main(m) }
//
// so that the templates are removed when its tests end.
package sqlitetest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
)

// MigrateFunc migrates the (empty) database sq.
type MigrateFunc func(sq *db.SQLite) error

type template struct {
	once sync.Once
	path string
	err  error
}

var (
	mu        sync.Mutex
	templates = map[string]*template{}
	dirs      []string
)

// Main runs the package's tests, then removes this process's templates.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for _, dir := range dirs {
		_ = os.RemoveAll(dir)
	}
	mu.Unlock()
	os.Exit(code)
}

// Open opens a copy, named file in a directory of tb's own, of the template that name
// identifies, closed when tb ends. The template is made by migrate on first use in this
// process; name must stand for one migrate function (for example "ingest").
func Open(tb testing.TB, name, file string, migrate MigrateFunc) *db.SQLite {
	tb.Helper()
	t := templateFor(name)
	t.once.Do(func() {
		t.err = fmt.Errorf("sqlitetest: template %s was not made", name) // should migrate panic
		t.path, t.err = makeTemplate(name, migrate)
	})
	if t.err != nil {
		tb.Fatal(t.err)
	}
	path := filepath.Join(tb.TempDir(), file)
	if err := copyFile(t.path, path); err != nil {
		tb.Fatal(err)
	}
	sq, err := db.OpenSQLite(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sq.Close() })
	return sq
}

func templateFor(name string) *template {
	mu.Lock()
	defer mu.Unlock()
	t := templates[name]
	if t == nil {
		t = &template{}
		templates[name] = t
	}
	return t
}

// makeTemplate migrates a new database and closes it with its WAL folded into the file,
// so that the file alone is the migrated database.
func makeTemplate(name string, migrate MigrateFunc) (string, error) {
	dir, err := os.MkdirTemp("", "sqlitetest-"+name+"-")
	if err != nil {
		return "", err
	}
	mu.Lock()
	dirs = append(dirs, dir)
	mu.Unlock()
	path := filepath.Join(dir, "template.db")
	sq, err := db.OpenSQLite(path)
	if err != nil {
		return "", err
	}
	err = migrate(sq)
	if err == nil {
		_, err = sq.Write.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	if err := errors.Join(err, sq.Close()); err != nil {
		return "", fmt.Errorf("sqlitetest: template %s: %w", name, err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return "", fmt.Errorf("sqlitetest: template %s: its WAL still holds %d bytes after closing", name, fi.Size())
	}
	return path, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
