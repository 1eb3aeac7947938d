package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit: a COMMIT on the single writer costs a WAL frame for each page the
// transaction changed plus the commit record and the checks that come with it, and the
// pages a set of small writes change are mostly the same (the tops of the indexes). So
// the writer runs the transactions that queued up while it was busy inside one SQLite
// transaction, each in a savepoint of its own, and commits once.

// Bounds of a batch: its first caller waits for the last one's work before it hears back,
// so a batch stops taking new work after maxBatch transactions or maxBatchTime, and
// commits as soon as nobody is waiting (a lone write is never held back).
const (
	maxBatch     = 32
	maxBatchTime = 10 * time.Millisecond
)

// errWriterClosed is what a write gets once Close has begun.
var errWriterClosed = errors.New("sql: database is closed")

// A txRequest is one caller's transaction waiting for, or run by, the writer.
type txRequest struct {
	ctx    context.Context
	fn     func(*sql.Tx) error
	state  atomic.Int32 // one of the request states below
	done   chan txResult
	queued time.Time // set when it found the writer busy
}

// Request states: the writer and a caller whose ctx ends race to move a request out of
// waiting; whoever wins decides whether fn runs.
const (
	waiting int32 = iota
	taken
	abandoned
)

// txResult is what a caller hears: the error of its write, or the panic of its fn, which
// it panics with again on its own goroutine.
type txResult struct {
	err      error
	panicked bool
	panicVal any
}

func (r txResult) failed() bool { return r.err != nil || r.panicked }

// groupWriter runs the batches, one at a time, each on the writer pool's connection.
type groupWriter struct {
	db      *sql.DB
	limit   int           // maxBatch but in tests
	window  time.Duration // maxBatchTime but in tests
	mu      sync.Mutex
	queue   []*txRequest
	running bool // a batch is under way
	closed  bool
	waits   atomic.Int64  // requests that found the writer busy
	waited  atomic.Int64  // their time in the queue, in nanoseconds
	wake    chan struct{} // buffered: a signal that the queue is no longer empty
	stopped chan struct{}
	once    sync.Once
}

func newGroupWriter(db *sql.DB) *groupWriter {
	w := &groupWriter{db: db, limit: maxBatch, window: maxBatchTime,
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go w.run()
	return w
}

// do runs fn in the next batch and returns once that batch has committed, or fn failed,
// or ctx ended before fn began.
func (w *groupWriter) do(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &txRequest{ctx: ctx, fn: fn, done: make(chan txResult, 1)}
	if !w.enqueue(r) {
		return errWriterClosed
	}
	var res txResult
	select {
	case res = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(waiting, abandoned) {
			return ctx.Err()
		}
		// The writer has it: it sees ctx ended and rolls back fn's savepoint, unless
		// fn's work is already in the batch, which then commits or fails as a whole.
		res = <-r.done
	}
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

func (w *groupWriter) enqueue(r *txRequest) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	if w.running || len(w.queue) > 0 {
		r.queued = time.Now()
	}
	w.queue = append(w.queue, r)
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// pop takes the oldest request that is still waiting, or nil.
func (w *groupWriter) pop() *txRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) > 0 {
		r := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		if r.state.CompareAndSwap(waiting, taken) {
			w.running = true
			if !r.queued.IsZero() {
				w.waits.Add(1)
				w.waited.Add(int64(time.Since(r.queued)))
			}
			return r
		}
	}
	return nil
}

// next waits for a request; false once closed with nothing left to do.
func (w *groupWriter) next() (*txRequest, bool) {
	for {
		if r := w.pop(); r != nil {
			return r, true
		}
		w.mu.Lock()
		w.running = len(w.queue) > 0
		closed := w.closed && len(w.queue) == 0
		w.mu.Unlock()
		if closed {
			return nil, false
		}
		<-w.wake
	}
}

func (w *groupWriter) run() {
	defer close(w.stopped)
	for {
		r, ok := w.next()
		if !ok {
			return
		}
		w.batch(r)
	}
}

// close lets the queued writes finish and stops the writer.
func (w *groupWriter) close() {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	})
	<-w.stopped
}

// batch runs first and whoever queues behind it, within the bounds, in one transaction.
// A caller whose fn failed hears at once (its savepoint is undone, the others' work
// stays); the others hear only after COMMIT, and all of them hear if COMMIT fails.
func (w *groupWriter) batch(first *txRequest) {
	// Not a caller's ctx: the transaction outlives any one of them.
	ctx := context.Background()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		first.done <- txResult{err: err}
		return
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		first.done <- txResult{err: err}
		return
	}
	var staged []*txRequest
	start := time.Now()
	for r, n := first, 1; r != nil; n++ {
		res, lost := runSaved(tx, r)
		if lost != nil {
			_ = tx.Rollback()
			if !res.failed() {
				// fn went on after an error that ended the transaction: what it did
				// after ran outside of it, and what it did before is gone.
				res.err = Unavailable(lost)
			}
			r.done <- res
			tell(staged, txResult{err: Unavailable(fmt.Errorf(
				"db: a write sharing this transaction failed it: %v", lost))})
			return
		}
		if res.failed() {
			r.done <- res
		} else {
			staged = append(staged, r)
		}
		if n >= w.limit || time.Since(start) >= w.window {
			break
		}
		r = w.pop()
	}
	err = tx.Commit()
	if err != nil {
		// A COMMIT refused by a deferred constraint or a busy lock leaves the
		// transaction open, and database/sql would hand the connection on inside it.
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
	}
	tell(staged, txResult{err: err})
}

func tell(rs []*txRequest, res txResult) {
	for _, r := range rs {
		r.done <- res
	}
}

// runSaved runs r's fn in a savepoint of tx and undoes it if fn failed, panicked, or
// r's ctx ended meanwhile. lost is set when tx itself is gone (SQLite rolls the whole
// transaction back on some errors, such as a full disk): nothing of the batch remains.
func runSaved(tx *sql.Tx, r *txRequest) (res txResult, lost error) {
	if err := r.ctx.Err(); err != nil {
		return txResult{err: err}, nil
	}
	if _, err := tx.Exec("SAVEPOINT batched"); err != nil {
		return txResult{err: err}, err
	}
	res = call(r.fn, tx)
	if !res.failed() {
		res.err = r.ctx.Err()
	}
	if res.failed() {
		if _, err := tx.Exec("ROLLBACK TO batched"); err != nil {
			return res, cause(res, err)
		}
	}
	if _, err := tx.Exec("RELEASE batched"); err != nil {
		return res, cause(res, err)
	}
	return res, nil
}

// cause is why a transaction was lost: fn's own failure, which SQLite answered by
// rolling everything back, rather than the "no such savepoint" that follows it.
func cause(res txResult, err error) error {
	if res.err != nil {
		return res.err
	}
	if res.panicked {
		return errors.New("a write panicked")
	}
	return err
}

// call runs fn, turning a panic into a result for fn's caller.
func call(fn func(*sql.Tx) error, tx *sql.Tx) (res txResult) {
	defer func() {
		if p := recover(); p != nil {
			res = txResult{panicked: true, panicVal: p}
		}
	}()
	return txResult{err: fn(tx)}
}
