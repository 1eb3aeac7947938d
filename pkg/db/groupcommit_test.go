package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func openBatched(t testing.TB, schema string) *SQLite {
	t.Helper()
	sq, err := OpenSQLite(filepath.Join(t.TempDir(), "batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sq.Close() })
	if _, err := sq.Write.Exec(schema); err != nil {
		t.Fatal(err)
	}
	return sq
}

const thingsSchema = "CREATE TABLE t (x INTEGER PRIMARY KEY)"

func insert(x int) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO t (x) VALUES (?)", x)
		return err
	}
}

func storedXs(t *testing.T, sq *SQLite) map[int]bool {
	t.Helper()
	rows, err := sq.Read.Query("SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]bool{}
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		got[x] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// holdWriter makes the writer busy until the returned function is called, so that
// the writes asked for meanwhile queue up and run as the next batch. The next batch
// takes them all: its time bound is lifted.
func holdWriter(t *testing.T, sq *SQLite) (release func() error) {
	t.Helper()
	sq.writer.window = time.Hour
	started, held := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- sq.WriteTx(context.Background(), func(*sql.Tx) error {
			close(started)
			<-held
			return nil
		})
	}()
	<-started
	return func() error {
		close(held)
		return <-done
	}
}

// waitQueued waits until n writes are queued behind the held writer.
func waitQueued(sq *SQLite, n int) {
	for {
		sq.writer.mu.Lock()
		q := len(sq.writer.queue)
		sq.writer.mu.Unlock()
		if q >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// queueWrites asks for each fn's write in a goroutine of its own, all queued behind a
// held writer and then run in one batch with the holder, and returns their errors in
// order, the holder's first.
func queueWrites(t *testing.T, sq *SQLite, ctxs []context.Context, fns ...func(*sql.Tx) error) []error {
	t.Helper()
	release := holdWriter(t, sq)
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		ctx := context.Background()
		if ctxs != nil && ctxs[i] != nil {
			ctx = ctxs[i]
		}
		wg.Go(func() { errs[i] = sq.WriteTx(ctx, fn) })
		waitQueued(sq, i+1) // in order, so that the batch runs them in order
	}
	held := release()
	wg.Wait()
	return append([]error{held}, errs...)
}

func TestWriteTxConcurrentWritersAllCommitted(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	const writers, each = 32, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := sq.WriteTx(context.Background(), insert(w*each+i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := storedXs(t, sq); len(got) != writers*each {
		t.Fatalf("%d rows stored, want %d", len(got), writers*each)
	}
}

// Every acknowledged write is in the file: a new connection, opened after, sees them.
func TestWriteTxAcknowledgedMeansCommitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ack.db")
	sq, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sq.Write.Exec(thingsSchema); err != nil {
		t.Fatal(err)
	}
	errs := queueWrites(t, sq, nil, insert(1), insert(2), insert(3))
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// No Close: a killed process does not get to close either.
	again, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	defer sq.Close()
	if got := storedXs(t, again); len(got) != 3 {
		t.Fatalf("stored %v", got)
	}
}

func TestWriteTxFailureUndoesOnlyItsOwnWork(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	boom := errors.New("boom")
	failing := func(tx *sql.Tx) error {
		if err := insert(2)(tx); err != nil {
			return err
		}
		return boom
	}
	duplicate := func(tx *sql.Tx) error {
		if err := insert(4)(tx); err != nil {
			return err
		}
		return insert(1)(tx) // taken by the first write of the batch
	}
	errs := queueWrites(t, sq, nil, insert(1), failing, insert(3), duplicate, insert(5))
	if !errors.Is(errs[2], boom) || errs[4] == nil {
		t.Fatalf("errors %v, want boom for the second and a constraint for the fourth", errs)
	}
	for _, i := range []int{0, 1, 3, 5} {
		if errs[i] != nil {
			t.Errorf("write %d: %v", i, errs[i])
		}
	}
	if got := storedXs(t, sq); fmt.Sprint(got) != "map[1:true 3:true 5:true]" {
		t.Fatalf("stored %v, want 1, 3 and 5", got)
	}
}

func TestWriteTxPanicReachesItsCaller(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	release := holdWriter(t, sq)
	var wg sync.WaitGroup
	var first, last error
	wg.Go(func() { first = sq.WriteTx(context.Background(), insert(1)) })
	waitQueued(sq, 1)
	recovered := make(chan any, 1)
	wg.Go(func() {
		defer func() { recovered <- recover() }()
		_ = sq.WriteTx(context.Background(), func(tx *sql.Tx) error {
			if err := insert(2)(tx); err != nil {
				return err
			}
			panic("fn panicked")
		})
	})
	waitQueued(sq, 2)
	wg.Go(func() { last = sq.WriteTx(context.Background(), insert(3)) })
	waitQueued(sq, 3)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if p := <-recovered; p != "fn panicked" {
		t.Fatalf("the caller recovered %v", p)
	}
	if first != nil || last != nil {
		t.Fatalf("the others failed: %v, %v", first, last)
	}
	if got := storedXs(t, sq); fmt.Sprint(got) != "map[1:true 3:true]" {
		t.Fatalf("stored %v, want 1 and 3", got)
	}
}

func TestWriteTxCancelledCaller(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	// Cancelled while its fn runs, after a statement: that statement is undone.
	during, cancelDuring := context.WithCancel(context.Background())
	cancelling := func(tx *sql.Tx) error {
		if err := insert(2)(tx); err != nil {
			return err
		}
		cancelDuring()
		return nil
	}
	// Cancelled mid-way, between statements: the next one is refused.
	between, cancelBetween := context.WithCancel(context.Background())
	refused := func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(between, "INSERT INTO t (x) VALUES (4)"); err != nil {
			return err
		}
		cancelBetween()
		_, err := tx.ExecContext(between, "INSERT INTO t (x) VALUES (40)")
		return err
	}
	errs := queueWrites(t, sq, []context.Context{nil, during, nil, between, nil},
		insert(1), cancelling, insert(3), refused, insert(5))
	if !errors.Is(errs[2], context.Canceled) || !errors.Is(errs[4], context.Canceled) {
		t.Fatalf("errors %v, want the cancelled ones to be context.Canceled", errs)
	}
	if err := errors.Join(errs[0], errs[1], errs[3], errs[5]); err != nil {
		t.Fatal(err)
	}
	if got := storedXs(t, sq); fmt.Sprint(got) != "map[1:true 3:true 5:true]" {
		t.Fatalf("stored %v, want 1, 3 and 5", got)
	}
}

// A caller that gives up while queued hears at once, and its fn never runs.
func TestWriteTxCancelledWhileQueued(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	release := holdWriter(t, sq)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	done := make(chan error, 1)
	go func() {
		done <- sq.WriteTx(ctx, func(tx *sql.Tx) error { ran = true; return insert(1)(tx) })
	}()
	waitQueued(sq, 1)
	cancel()
	err := <-done // while the writer is still held
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := sq.WriteTx(context.Background(), insert(2)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err = %v, ran = %v", err, ran)
	}
	if got := storedXs(t, sq); fmt.Sprint(got) != "map[2:true]" {
		t.Fatalf("stored %v", got)
	}
}

// A deferred foreign key is checked at COMMIT: one write's violation fails the batch's
// COMMIT, and every caller of the batch hears it, none sees success.
func TestWriteTxCommitFailureReachesAll(t *testing.T) {
	sq := openBatched(t, thingsSchema+`;
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`)
	orphan := func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO child (parent) VALUES (99)")
		return err
	}
	errs := queueWrites(t, sq, nil, insert(1), orphan, insert(3))
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("write %d: err = %v, want the COMMIT's foreign key error", i, err)
		}
	}
	if got := storedXs(t, sq); len(got) != 0 {
		t.Fatalf("stored %v after a failed COMMIT", got)
	}
	// The writer goes on, outside the failed transaction.
	if err := sq.WriteTx(context.Background(), insert(7)); err != nil {
		t.Fatal(err)
	}
	if got := storedXs(t, sq); fmt.Sprint(got) != "map[7:true]" {
		t.Fatalf("stored %v", got)
	}
}

// After Close, a write is refused rather than left waiting.
func TestWriteTxAfterClose(t *testing.T) {
	sq, err := OpenSQLite(filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sq.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sq.WriteTx(context.Background(), func(*sql.Tx) error { return nil }); err == nil {
		t.Fatal("a write after Close succeeded")
	}
}

// BenchmarkSmallWrites runs concurrent one-row transactions through the batching writer
// and through one transaction each (oneTxPerWrite), on the same kind of file. cpu-ms/kop
// counts the whole process's CPU.
func BenchmarkSmallWrites(b *testing.B) {
	for _, mode := range []string{"batched", "one-per-tx"} {
		b.Run(mode, func(b *testing.B) {
			sq := openBatched(b, "CREATE TABLE t (x INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)")
			write := func(tx *sql.Tx) error {
				_, err := tx.Exec("INSERT INTO t (v) VALUES ('a small row of a few bytes')")
				return err
			}
			b.SetParallelism(8) // 8 writers per CPU, as many requests wait on the writer
			cpu := cpuTime(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var err error
					if mode == "batched" {
						err = sq.WriteTx(context.Background(), write)
					} else {
						err = oneTxPerWrite(sq.Write, write)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(time.Millisecond)/float64(b.N)*1000, "cpu-ms/kop")
		})
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCheckpoints writes page-sized rows through the batching writer under WAL
// checkpoint settings: SQLite's default (a checkpoint by the committing writer every
// 1000 pages of WAL), the writer's 8000, and checkpoints by a goroutine of their own,
// off the writer. cpu-ms/kop counts the process's CPU, checkpoints included.
// On 2 shared cores, an earlier run with 10000 pages took 0.90 to 1.03 of the default's
// CPU here, and the background checkpoints 1.18. Under the load tool, whose writes change the same index
// pages again and again, a CPU profile put COMMIT at 18% of serve's CPU with checkpoints
// every 1000 pages and 15% every 8000, which the writer now uses (OpenSQLite).
func BenchmarkCheckpoints(b *testing.B) {
	for _, mode := range []string{"auto1000", "auto8000", "background"} {
		b.Run(mode, func(b *testing.B) {
			sq := openBatched(b, "CREATE TABLE t (x INTEGER PRIMARY KEY AUTOINCREMENT, k INTEGER, v BLOB); CREATE INDEX t_k ON t (k)")
			stop := make(chan struct{})
			var bg sync.WaitGroup
			switch mode {
			case "auto1000": // SQLite's default; OpenSQLite sets 8000
				if _, err := sq.Write.Exec("PRAGMA wal_autocheckpoint = 1000"); err != nil {
					b.Fatal(err)
				}
			case "background":
				if _, err := sq.Write.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
					b.Fatal(err)
				}
				bg.Go(func() { checkpointOften(b, sq, stop) })
			}
			write := func(tx *sql.Tx) error {
				_, err := tx.Exec("INSERT INTO t (k, v) VALUES (abs(random()) % 100000, randomblob(3000))")
				return err
			}
			b.SetParallelism(8)
			cpu := cpuTime(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := sq.WriteTx(context.Background(), write); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			close(stop)
			bg.Wait()
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(time.Millisecond)/float64(b.N)*1000, "cpu-ms/kop")
		})
	}
}

// checkpointOften checkpoints sq's WAL from a connection of its own until stop.
func checkpointOften(b *testing.B, sq *SQLite, stop chan struct{}) {
	var seq int
	var name, path string
	if err := sq.Write.QueryRow("PRAGMA database_list").Scan(&seq, &name, &path); err != nil {
		b.Error(err)
		return
	}
	conn, err := sql.Open("sqlite", "file:"+path+"?"+sqliteCommonParams)
	if err != nil {
		b.Error(err)
		return
	}
	defer conn.Close()
	for {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		var busy, log, done int
		if err := conn.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
			b.Error(err)
			return
		}
	}
}

// A caller cancelled while its statement runs: were the statement interrupted, SQLite
// could roll back the whole transaction, the other callers' work with it.
func TestWriteTxCancelledMidStatement(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	ctx, cancel := context.WithCancel(context.Background())
	long := func(tx *sql.Tx) error {
		stop := time.AfterFunc(2*time.Millisecond, cancel) // most likely mid-statement
		defer stop.Stop()
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5000)
INSERT INTO t (x) SELECT n + 1000 FROM c`)
		if err == nil {
			cancel() // the statement won the race: cancel after it instead
		}
		return err
	}
	errs := queueWrites(t, sq, []context.Context{nil, ctx, nil}, insert(1), long, insert(3))
	if !errors.Is(errs[2], context.Canceled) {
		t.Fatalf("errors %v, want the cancelled one to be context.Canceled", errs)
	}
	if err := errors.Join(errs[0], errs[1], errs[3]); err != nil {
		t.Fatal(err)
	}
	if got := storedXs(t, sq); fmt.Sprint(got) != "map[1:true 3:true]" {
		t.Fatalf("stored %d rows, want 1 and 3", len(got))
	}
}

// The writes queued behind a busy writer are counted as waits; a lone write is not.
func TestWriterWaits(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	if err := sq.WriteTx(context.Background(), insert(1)); err != nil {
		t.Fatal(err)
	}
	if n, _ := sq.WriterWaits(); n != 0 {
		t.Fatalf("%d waits after a lone write", n)
	}
	if err := errors.Join(queueWrites(t, sq, nil, insert(2), insert(3))...); err != nil {
		t.Fatal(err)
	}
	// The writer that held them may itself have found the writer still finishing the
	// lone write: it returns once committed, before the writer looks for more.
	if n, d := sq.WriterWaits(); n < 2 || n > 3 || d <= 0 {
		t.Fatalf("%d waits for %v, want the 2 queued writes", n, d)
	}
}

// A write that ends the shared transaction itself (here a ROLLBACK; SQLite does the same
// on some errors) loses the batch: none of its callers hears success, the one that did it
// included, and the writes queued behind still run.
func TestWriteTxLostTransaction(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	rogue := func(tx *sql.Tx) error {
		if err := insert(2)(tx); err != nil {
			return err
		}
		if _, err := tx.Exec("ROLLBACK"); err != nil {
			return err
		}
		return insert(20)(tx) // outside any transaction now
	}
	sq.writer.limit = 3 // the holder, 1 and rogue; 3 waits for the next batch
	errs := queueWrites(t, sq, nil, insert(1), rogue, insert(3))
	for i, err := range errs[:3] {
		if err == nil {
			t.Errorf("write %d succeeded in a lost transaction", i)
		}
	}
	if errs[3] != nil {
		t.Errorf("the write queued behind: %v", errs[3])
	}
	if got := storedXs(t, sq); got[1] || got[2] || !got[3] {
		t.Fatalf("stored %v, want neither 1 nor 2, and 3", got)
	}
}

// A health check must not queue behind the writes: with the writer held by a long write,
// Ping still answers (before, it waited for the write connection until its deadline).
func TestPingWhileWriterBusy(t *testing.T) {
	sq := openBatched(t, thingsSchema)
	release := make(chan struct{})
	started := make(chan struct{})
	writeDone := make(chan error, 1)
	go func() {
		writeDone <- sq.WriteTx(context.Background(), func(tx *sql.Tx) error {
			close(started)
			<-release
			return insert(1)(tx)
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err := sq.Ping(ctx)
	cancel()
	close(release)
	if err != nil {
		t.Fatalf("Ping with the writer busy: %v", err)
	}
	if err := <-writeDone; err != nil {
		t.Fatal(err)
	}
	if !storedXs(t, sq)[1] {
		t.Fatal("the write held during Ping was not stored")
	}
	if err := sq.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sq.Ping(context.Background()); err == nil {
		t.Fatal("Ping after Close answered nil")
	}
}

// oneTxPerWrite is how writes ran before group commit, the benchmark's baseline.
func oneTxPerWrite(db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
