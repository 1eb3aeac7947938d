package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/services/analysis/store"
	"github.com/spackmon/spackmon/services/analysis/store/postgres"
)

// afterFirstRead runs fn once, when the first statement reading chunks for a list returns.
type afterFirstRead struct {
	fn    func()
	fired atomic.Bool
}

type statementKey struct{}

func (a *afterFirstRead) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, statementKey{}, d.SQL)
}

func (a *afterFirstRead) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if sql, _ := ctx.Value(statementKey{}).(string); strings.Contains(sql, "SELECT max(first_path)") && a.fired.CompareAndSwap(false, true) {
		a.fn()
	}
}

// A list that reads a build's chunks in several rounds, while a write between two rounds
// splits the chunks it has read, still answers each file once, in order.
func TestListDuringWrite(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "analysis", migrate)
	writer := openTraced(t, url, nil)
	var files []store.InstallFile
	for i := range 5120 {
		f := store.InstallFile{Path: fmt.Sprintf("p/%05d", i), Type: "file"}
		if i%10 == 0 {
			f.Type = "dir"
		}
		files = append(files, f)
	}
	if _, err := writer.Record(ctx, 9, store.Analysis{InstallFiles: files}); err != nil {
		t.Fatal(err)
	}
	write := &afterFirstRead{fn: func() {
		var more []store.InstallFile
		for i := range 600 {
			more = append(more, store.InstallFile{Path: fmt.Sprintf("p/01600a%03d", i), Type: "file"})
		}
		if _, err := writer.Record(ctx, 9, store.Analysis{InstallFiles: more}); err != nil {
			t.Error(err)
		}
	}}
	got, err := openTraced(t, url, write).ListInstallFiles(ctx, store.InstallFileQuery{BuildID: 9, Type: "dir", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !write.fired.Load() {
		t.Fatal("the write between two reads of chunks never ran")
	}
	for i, f := range got {
		if i > 0 && f.Path <= got[i-1].Path {
			t.Fatalf("file %d, %s, after %s", i, f.Path, got[i-1].Path)
		}
	}
	if len(got) != 512 {
		t.Errorf("%d directories, want 512", len(got))
	}
}

func openTraced(t *testing.T, url string, tracer pgx.QueryTracer) store.Store {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	t.Cleanup(func() { st.Close() })
	return st
}
