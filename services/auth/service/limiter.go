package service

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
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

// failureLimiter counts failed credential checks. A check reserves one failure from each of
// its buckets before it runs, so that concurrent guesses cannot all slip past an almost
// empty bucket; a check that succeeds gives them back.
type failureLimiter struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newFailureLimiter() *failureLimiter {
	return &failureLimiter{buckets: map[string]*rate.Limiter{}}
}

// admit reserves a failure for user at addr. When a bucket is empty it returns how long to
// wait and false; otherwise settle must be called with whether the check failed.
func (l *failureLimiter) admit(addr, user string, now time.Time) (settle func(failed bool), wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	host := clientPrefix(addr)
	lims := []*rate.Limiter{l.bucket("a|"+host, perAddress, now), l.bucket("u|"+host+"|"+user, perUser, now)}
	for _, lim := range lims {
		if lim.TokensAt(now) < 1 {
			r := lim.ReserveN(now, 1)
			wait = max(wait, r.DelayFrom(now))
			r.CancelAt(now)
		}
	}
	if wait > 0 {
		return nil, wait, false
	}
	reservations := make([]*rate.Reservation, len(lims))
	for i, lim := range lims {
		reservations[i] = lim.ReserveN(now, 1)
	}
	return func(failed bool) {
		if failed {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, r := range reservations {
			r.CancelAt(now)
		}
	}, 0, true
}

// bucket returns the limiter of key, making it (and room for it) when there is none.
func (l *failureLimiter) bucket(key string, lim limit, now time.Time) *rate.Limiter {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if len(l.buckets) >= maxTracked {
		l.forget(now)
	}
	b := rate.NewLimiter(rate.Every(lim.refill), lim.burst)
	l.buckets[key] = b
	return b
}

func (l *failureLimiter) forget(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxTracked-maxTracked/10 {
			return
		}
		delete(l.buckets, k)
	}
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
