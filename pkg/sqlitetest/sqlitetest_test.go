package sqlitetest_test

import (
	"fmt"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/sqlitetest"
)

func TestMain(m *testing.M) { sqlitetest.Main(m) }

var runs int

// Each test's database is a copy of a template migrated once: what one test writes the
// next does not see.
func TestCopiesOfOneTemplate(t *testing.T) {
	runs++ // a template of its own for each run of the test (-count)
	name := fmt.Sprintf("copies-%d", runs)
	migrations := 0
	migrate := func(sq *db.SQLite) error {
		migrations++
		_, err := sq.Write.Exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1)")
		return err
	}
	count := func(sq *db.SQLite) (n int) {
		if err := sq.Read.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := sqlitetest.Open(t, name, "a.db", migrate)
	if _, err := first.Write.Exec("INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	second := sqlitetest.Open(t, name, "a.db", migrate)
	if got := [2]int{count(first), count(second)}; got != [2]int{2, 1} {
		t.Errorf("rows in the two copies = %v, want [2 1]", got)
	}
	if migrations != 1 {
		t.Errorf("migrated %d times, want once", migrations)
	}
}
