package service

import (
	"context"
	"time"

	"github.com/spackmon/spackmon/pkg/budget"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// maxDecoderWindow is the largest history a stored log's decompressor keeps: the window
// logs were compressed with before logWindow (the library's default), and never more
// than the log.
const maxDecoderWindow = 8 << 20

// WithReadBudget bounds the memory the log reads in flight hold to limit bytes
// (SPACKMON_INFLIGHT_READ_BYTES): a read that does not fit waits up to wait for others to
// finish, then is refused as Unavailable. A read alone is always taken. No bound when limit
// is 0 or less.
func WithReadBudget(limit int64, wait time.Duration) Option {
	return func(s *Server) {
		if limit > 0 {
			s.reads = budget.New(limit, wait)
		}
	}
}

// readCost is the memory a read of a log of size holds until it ends: the log as stored,
// the decompressor's history and a piece of the answer, and answer bytes more when the
// answer is gathered whole.
func readCost(size store.OutputSize, answer int64) int64 {
	return size.Compressed + min(size.Bytes, maxDecoderWindow) + min(size.Bytes, readPiece) + answer
}

// loadOutput reads a phase's stored log for a read, having first taken from the read
// budget what the read will hold (readCost, answer giving what it gathers for a log of a
// size; nil for nothing). done gives it back: call it once the read has ended, whatever
// its outcome. A log replaced by a larger one between the two reads of the store is held
// at its old cost, an overrun of one log at most.
func (s *Server) loadOutput(ctx context.Context, buildID int64, phase string, answer func(store.OutputSize) int64) (out store.PhaseOutput, done func(), err error) {
	if s.reads == nil {
		out, err := s.store.PhaseOutput(ctx, buildID, phase)
		return out, func() {}, err
	}
	size, err := s.store.PhaseOutputSize(ctx, buildID, phase)
	if err != nil {
		return out, nil, err
	}
	var gathered int64
	if answer != nil {
		gathered = answer(size)
	}
	if done, err = s.hold(ctx, readCost(size, gathered)); err != nil {
		return out, nil, err
	}
	if out, err = s.store.PhaseOutput(ctx, buildID, phase); err != nil {
		done()
		return out, nil, err
	}
	return out, done, nil
}

// LogHold takes from the read budget what reading the context of events from a log of size
// holds, counted as a read of the log is (readCost); nil when reads are unbounded, which
// spares the store the size it would read for it.
func (s *Server) LogHold() store.LogHold {
	if s.reads == nil {
		return nil
	}
	return func(ctx context.Context, size store.OutputSize) (func(), error) {
		return s.hold(ctx, readCost(size, 0))
	}
}

// hold takes cost from the read budget, waiting as the budget allows, and gives the function
// that gives it back.
func (s *Server) hold(ctx context.Context, cost int64) (release func(), err error) {
	if s.reads == nil {
		return func() {}, nil
	}
	if !s.reads.Acquire(ctx, cost) {
		return nil, errs.New(errs.Unavailable, "Too many logs are being read right now; try again shortly.")
	}
	return func() { s.reads.Release(cost) }, nil
}
