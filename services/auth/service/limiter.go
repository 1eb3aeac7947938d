package service

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed credential checks a client address may make at once, and how fast it earns another.
const (
	failureBurst  = 10
	failureRefill = 6 * time.Second
	// maxTracked bounds the addresses remembered; past it, addresses back at a full allowance
	// are forgotten.
	maxTracked = 10000
)

// failureLimiter counts failed credential checks per client address. Successful checks cost
// nothing, so a client that knows its token is never slowed down unless it also guesses.
type failureLimiter struct {
	mu    sync.Mutex
	addrs map[string]*rate.Limiter
}

func newFailureLimiter() *failureLimiter {
	return &failureLimiter{addrs: map[string]*rate.Limiter{}}
}

// blocked reports whether addr has used up its failures, and when it may try again.
func (l *failureLimiter) blocked(addr string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.addrs[addr]
	if !ok || lim.TokensAt(now) >= 1 {
		return 0, false
	}
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return wait, true
}

// fail records a failed check by addr.
func (l *failureLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.addrs[addr]
	if !ok {
		if len(l.addrs) >= maxTracked {
			l.forgetIdle(now)
		}
		lim = rate.NewLimiter(rate.Every(failureRefill), failureBurst)
		l.addrs[addr] = lim
	}
	lim.AllowN(now, 1)
}

func (l *failureLimiter) forgetIdle(now time.Time) {
	for a, lim := range l.addrs {
		if lim.TokensAt(now) >= failureBurst {
			delete(l.addrs, a)
		}
	}
}
