// Package budget bounds the memory a role holds for work in flight by the bytes that work
// holds, rather than by the number of clients: request bodies in the gateway, stored logs
// being read in ingest.
package budget

import (
	"context"
	"sync"
	"time"
)

// Bytes is a budget of bytes. Work that does not fit waits for others to release theirs, up
// to a configured time. Work alone is always admitted, whatever its size, so that nothing
// is refused forever.
type Bytes struct {
	limit int64
	wait  time.Duration

	mu   sync.Mutex
	used int64
	// freed is closed, and replaced, whenever bytes are released.
	freed chan struct{}
}

// New returns a budget of limit bytes (limit > 0) in which work that does not fit waits up
// to wait.
func New(limit int64, wait time.Duration) *Bytes {
	return &Bytes{limit: limit, wait: max(wait, 0), freed: make(chan struct{})}
}

// TryAcquire takes n more bytes for work that holds own already, unless that would go past
// the limit while others hold bytes too; when it does not, it also returns a channel closed
// once bytes are released. Work of no bytes is always taken, even while work alone holds
// more than the limit.
func (b *Bytes) TryAcquire(n, own int64) (bool, <-chan struct{}) {
	if n <= 0 {
		return true, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit && b.used > own {
		return false, b.freed
	}
	b.used += n
	return true, nil
}

// Acquire takes n bytes, waiting up to the configured time (or until ctx ends) for others
// to release enough.
func (b *Bytes) Acquire(ctx context.Context, n int64) bool {
	ok, freed := b.TryAcquire(n, 0)
	if ok || b.wait == 0 {
		return ok
	}
	timer := time.NewTimer(b.wait)
	defer timer.Stop()
	for {
		select {
		case <-freed:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
		if ok, freed = b.TryAcquire(n, 0); ok {
			return true
		}
	}
}

// Release gives back n bytes.
func (b *Bytes) Release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
}
