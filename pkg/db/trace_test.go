package db_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/spackmon/spackmon/pkg/db"
)

// Each SQLite transaction is a span of the request that ran it, failed when it failed.
func TestSQLiteTransactionSpans(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	otel.SetTracerProvider(provider)
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })

	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "trace.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	if _, err := sq.Write.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	ctx, request := provider.Tracer("test").Start(context.Background(), "request")
	insert := func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); return err }
	if err := sq.WriteTx(ctx, insert); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := sq.WriteTx(ctx, func(*sql.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	request.End()

	var txs []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "sqlite.tx" {
			txs = append(txs, s)
		}
	}
	if len(txs) != 2 {
		t.Fatalf("%d transaction spans, want 2", len(txs))
	}
	for i, s := range txs {
		if s.Parent().SpanID() != request.SpanContext().SpanID() || s.SpanContext().TraceID() != request.SpanContext().TraceID() {
			t.Errorf("transaction %d is not a child of the request's span", i)
		}
	}
	if txs[0].Status().Code == codes.Error || txs[1].Status().Code != codes.Error {
		t.Errorf("statuses %v and %v, want the failed transaction alone in error", txs[0].Status(), txs[1].Status())
	}
}
