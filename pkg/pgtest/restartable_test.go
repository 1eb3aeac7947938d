package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/pgtest"
)

// A cluster stopped refuses connections; started again, it has what was committed.
func TestClusterStopStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	ctx := context.Background()
	cl := pgtest.NewCluster(t)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, cl.URL())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	cl.Stop()
	if err := exec("SELECT 1"); err == nil {
		t.Fatal("a stopped cluster answered")
	}
	cl.Start()
	conn, err := pgx.Connect(ctx, cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after the restart: %d %v", n, err)
	}
}
