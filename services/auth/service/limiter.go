package service

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// How many failed credential checks a client may make at once, and how fast it earns another:
// per user name from one address, and for all names from one address together. The first is
// what one stale API token in a CI job uses up; the second stops a spray over many names, yet
// leaves room for the stale jobs of many users behind one proxy.
var (
	perUser    = limit{burst: 10, refill: 6 * time.Second}
	perAddress = limit{burst: 100, refill: time.Second}
)

// maxTracked bounds the buckets remembered. Past it, buckets back at a full allowance are
// forgotten, then arbitrary ones until a tenth of the room is free, so that the scan runs
// once per many new clients even when every bucket is in use.
const maxTracked = 20000

type limit struct {
	burst  int
	refill time.Duration
}

// failureLimiter counts failed credential checks. Only a check that fails costs anything, yet
// concurrent guesses cannot all slip past an almost empty bucket: a check in progress holds
// one of the failures left until it ends, and when the checks in progress hold them all, the
// next check waits for one of them to end instead of being refused. So any number of good
// logins at once all go through, and guesses at once stop at the allowance.
type failureLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	// forgetAt is the number of buckets that makes room again: maxTracked, or more while
	// checks in progress keep more (so the scan still runs once per many new clients).
	forgetAt int
}

func newFailureLimiter() *failureLimiter {
	return &failureLimiter{buckets: map[string]*bucket{}, forgetAt: maxTracked}
}

// tooManyFailures refuses a check: the client has used up its failures for now.
type tooManyFailures struct{ wait time.Duration }

func (e *tooManyFailures) Error() string { return "too many failed attempts" }

// admit lets a credential check of user at addr run, and returns the settle that must be
// called with whether it failed. It waits while checks in progress might use up what is
// left; it returns a *tooManyFailures when failures have, or the context's error.
func (l *failureLimiter) admit(ctx context.Context, addr, user string, clock func() time.Time) (settle func(failed bool), err error) {
	host := clientPrefix(addr)
	for {
		l.mu.Lock()
		now := clock()
		buckets := [...]*bucket{l.bucket("a|"+host, perAddress, now), l.bucket("u|"+host+"|"+user, perUser, now)}
		var wait time.Duration
		var busy *bucket
		for _, b := range buckets {
			b.advance(now)
			wait = max(wait, b.untilNext())
			if b.tokens-float64(b.pending) < 1 {
				busy = b
			}
		}
		if wait > 0 {
			l.mu.Unlock()
			return nil, &tooManyFailures{wait}
		}
		if busy == nil {
			for _, b := range buckets {
				b.pending++
			}
			l.mu.Unlock()
			return func(failed bool) { l.settle(buckets[:], failed, clock()) }, nil
		}
		ended := busy.checkEnded()
		l.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// settle ends a check admitted on buckets, charging them a failure if it failed.
func (l *failureLimiter) settle(buckets []*bucket, failed bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range buckets {
		b.advance(now)
		b.pending--
		if failed {
			b.tokens--
		}
		if b.ended != nil {
			close(b.ended)
			b.ended = nil
		}
	}
}

// bucket returns the bucket of key, making it (and room for it) when there is none.
func (l *failureLimiter) bucket(key string, lim limit, now time.Time) *bucket {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if len(l.buckets) >= l.forgetAt {
		l.forget(now)
		l.forgetAt = max(maxTracked, len(l.buckets)+maxTracked/10)
	}
	b := &bucket{limit: lim, tokens: float64(lim.burst), at: now}
	l.buckets[key] = b
	return b
}

// forget makes room among the buckets. One with checks in progress stays: they will settle
// on it, and a failure charged to a forgotten bucket would be lost.
func (l *failureLimiter) forget(now time.Time) {
	for k, b := range l.buckets {
		b.advance(now)
		if b.pending == 0 && b.tokens >= float64(b.burst) {
			delete(l.buckets, k)
		}
	}
	for k, b := range l.buckets {
		if len(l.buckets) < maxTracked-maxTracked/10 {
			return
		}
		if b.pending == 0 {
			delete(l.buckets, k)
		}
	}
}

// bucket is one client's allowance: the failures it may make now (earning back one every
// refill, up to the burst), and the checks of it in progress.
type bucket struct {
	limit
	tokens  float64
	at      time.Time // when tokens was last brought up to date
	pending int
	// ended, when a check waits on this bucket, is closed when a check in progress ends.
	ended chan struct{}
}

// advance earns back the failures due by now.
func (b *bucket) advance(now time.Time) {
	if now.After(b.at) {
		b.tokens = min(float64(b.burst), b.tokens+float64(now.Sub(b.at))/float64(b.refill))
		b.at = now
	}
}

// untilNext is how long until one more failure is allowed, whatever the checks in progress.
func (b *bucket) untilNext() time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(b.refill))
}

// checkEnded is closed when one of the bucket's checks in progress ends.
func (b *bucket) checkEnded() <-chan struct{} {
	if b.ended == nil {
		b.ended = make(chan struct{})
	}
	return b.ended
}

// clientPrefix is what one client is counted as: its IPv4 address, or the /64 of its IPv6
// address, which one host usually has whole.
func clientPrefix(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
