package db

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func openTestSQLite(t *testing.T) *SQLite {
	t.Helper()
	sq, err := OpenSQLite(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sq.Close() })
	return sq
}

// cachedCount is how many statements the writer's one connection keeps.
func cachedCount(t *testing.T, sq *SQLite) int {
	t.Helper()
	conn, err := sq.Write.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error {
		n = len(dc.(*cachingConn).stmts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func sumOf(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) int {
	t.Helper()
	rs, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	sum := 0
	for rs.Next() {
		var v int
		if err := rs.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestStatementCache(t *testing.T) {
	sq := openTestSQLite(t)
	ctx := context.Background()
	if _, err := sq.Write.ExecContext(ctx, `CREATE TABLE t (v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	before := cachedCount(t, sq)
	for i := 1; i <= 10; i++ {
		if _, err := sq.Write.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
	}
	if got := cachedCount(t, sq); got != before+1 {
		t.Errorf("ten runs of one insert keep %d statements more, want 1", got-before)
	}
	if got := sumOf(t, sq.Write, `SELECT v FROM t WHERE v > ?`, 5); got != 6+7+8+9+10 {
		t.Errorf("sum = %d", got)
	}

	// The same text again while its rows are open runs on a statement of its own.
	err := oneTxPerWrite(sq.Write, func(tx *sql.Tx) error {
		rs, err := tx.QueryContext(ctx, `SELECT v FROM t WHERE v > ?`, 8)
		if err != nil {
			return err
		}
		defer rs.Close()
		n := 0
		for rs.Next() {
			n++
			if got := sumOf(t, tx, `SELECT v FROM t WHERE v > ?`, 8); got != 19 {
				t.Errorf("inner sum = %d", got)
			}
		}
		if n != 2 {
			t.Errorf("outer rows = %d", n)
		}
		return rs.Err()
	})
	if err != nil {
		t.Fatal(err)
	}

	// A failed statement leaves the cache usable.
	if _, err := sq.Write.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, nil); err == nil {
		t.Fatal("NULL accepted")
	}
	if _, err := sq.Write.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, 11); err != nil {
		t.Fatal(err)
	}

	// Past the bound, statements are let go and texts still run.
	for i := range maxCachedStmts + 10 {
		if got := sumOf(t, sq.Write, fmt.Sprintf(`SELECT v FROM t WHERE v = %d`, i%12)); got != i%12 {
			t.Fatalf("v = %d: sum %d", i%12, got)
		}
	}
	if got := cachedCount(t, sq); got > maxCachedStmts {
		t.Errorf("%d statements kept, bound %d", got, maxCachedStmts)
	}

	// A kept statement sees a schema change.
	if _, err := sq.Write.ExecContext(ctx, `ALTER TABLE t ADD COLUMN w INTEGER NOT NULL DEFAULT 2`); err != nil {
		t.Fatal(err)
	}
	if got := sumOf(t, sq.Write, `SELECT count(*) FROM t`); got != 11 {
		t.Errorf("count = %d", got)
	}
	var cols int
	if err := sq.Read.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('t')`).Scan(&cols); err != nil || cols != 2 {
		t.Errorf("columns = %d, %v", cols, err)
	}
}
