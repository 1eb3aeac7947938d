package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqliteTracer makes a span of each SQLite transaction, the unit a request waits for on
// the single writer (the statements inside run on the same connection, one after another).
var sqliteTracer = otel.Tracer("github.com/spackmon/spackmon/pkg/db")

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "transaction failed")
	}
	span.End()
}

// SQLite is one database file opened twice: Write has a single connection, because SQLite
// lets one writer in at a time and queuing writers in Go is cheaper than having them spin
// on SQLITE_BUSY; Read is a pool of read-only connections that WAL mode lets run alongside
// the writer.
//
// Writes go through WriteTx, which batches them; Write itself serves what must run
// alone, such as migrations.
type SQLite struct {
	Write  *sql.DB
	Read   *sql.DB
	writer *groupWriter
}

// Shared by both pools: wait for locks held by other processes rather than failing, and
// enforce foreign keys (SQLite leaves them off by default).
const sqliteCommonParams = "_busy_timeout=10000&_foreign_keys=1"

// OpenSQLite opens (creating if needed) the database file at path in WAL mode.
func OpenSQLite(path string) (*SQLite, error) {
	file := "file:" + (&url.URL{Path: path}).EscapedPath()

	// _txlock=immediate: a transaction takes the write lock at BEGIN, so one that starts by
	// reading can't fail with SQLITE_BUSY when it later writes.
	// synchronous=NORMAL is durable in WAL mode except for the last commits on power loss.
	// temp_store=memory keeps statement journals (every upsert and trigger in a transaction
	// has one) in memory: in a file they cost a write system call per page, 6% of the CPU
	// of a phase upload.
	// wal_autocheckpoint: a checkpoint copies each page the WAL holds once, however often
	// it was written since the last one, and the pages of the indexes are written again by
	// most commits. Every 8,000 pages (32 MiB) instead of SQLite's 1,000 took the commits
	// from about 18% to 15% of serve's CPU under load; journal_size_limit keeps the WAL file
	// at that size once a checkpoint has emptied it.
	// The writer's statements run for whichever caller's savepoint is open in a shared
	// transaction: see cachingConn.detached.
	write, err := openCaching(file+"?"+sqliteCommonParams+
		"&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_pragma=temp_store(memory)"+
		"&_pragma=wal_autocheckpoint(8000)&_pragma=journal_size_limit(33554432)", true)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// Opening the writer first creates the file and switches it to WAL before any reader
	// looks at it.
	if err := write.Ping(); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}

	read, err := openCaching(file+"?"+sqliteCommonParams+"&_query_only=1", false)
	if err != nil {
		write.Close()
		return nil, err
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	if err := read.Ping(); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return &SQLite{Write: write, Read: read, writer: newGroupWriter(write)}, nil
}

// Close waits for the writes already asked for, then closes both pools.
func (s *SQLite) Close() error {
	s.writer.close()
	return errors.Join(s.Read.Close(), s.Write.Close())
}

// WriteTx runs fn in a transaction on the writer, perhaps one shared with other
// callers' writes (group commit): fn runs in a savepoint of its own, so an error
// or panic of fn undoes only fn's work, and WriteTx returns nil only once the
// transaction holding fn's work has committed. fn must leave the transaction open (no
// Commit or Rollback of its own), must not keep tx after it returns, and must not call
// runtime.Goexit (t.FailNow): it runs on the writer's goroutine, not the caller's. A
// panic of fn is raised again on the caller's goroutine, with fn's stack lost.
//
// The statements of fn are not interrupted when ctx ends (see cachingConn.detached): the
// batch undoes fn's work once fn returns, and WriteTx returns ctx.Err().
func (s *SQLite) WriteTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	ctx, span := sqliteTracer.Start(ctx, "sqlite.tx", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "sqlite")))
	defer func() { endSpan(span, err) }()
	return s.writer.do(ctx, fn)
}

// Ping asks a reader whether the file answers. It does not wait for the writer: under
// load the writer is busy for seconds at a time, and a health check that queued behind
// the writes made a busy server report itself unavailable (Spack then stops at service
// info). A wedged writer shows in the writes' own errors.
func (s *SQLite) Ping(ctx context.Context) error {
	return s.Read.PingContext(ctx)
}

// WriterWaits is how many WriteTx calls found the writer busy, since the database opened,
// and how long they waited for it in all: the queue of writes is the writer's, ahead of
// the pool, whose own wait statistics no longer see it.
func (s *SQLite) WriterWaits() (count int64, total time.Duration) {
	return s.writer.waits.Load(), time.Duration(s.writer.waited.Load())
}
