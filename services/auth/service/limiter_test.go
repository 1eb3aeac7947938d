package service

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fail makes n failed checks of user at addr and reports how many were admitted.
func fail(l *failureLimiter, addr, user string, n int, now time.Time) int {
	admitted := 0
	for range n {
		if settle, _, ok := l.admit(addr, user, now); ok {
			settle(true)
			admitted++
		}
	}
	return admitted
}

func TestFailureLimiterPerUser(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	if n := fail(l, "10.0.0.1", "ci", perUser.burst+5, now); n != perUser.burst {
		t.Fatalf("%d failures admitted, want %d", n, perUser.burst)
	}
	settle, wait, ok := l.admit("10.0.0.1", "ci", now)
	if ok || wait <= 0 || wait > perUser.refill {
		t.Fatalf("after the burst: ok %t, wait %v", ok, wait)
	}
	_ = settle
	// Other users behind the same address, and the same user elsewhere, are not held up.
	for _, c := range [][2]string{{"10.0.0.1", "alice"}, {"10.0.0.2", "ci"}} {
		if settle, _, ok := l.admit(c[0], c[1], now); !ok {
			t.Errorf("%s at %s is limited", c[1], c[0])
		} else {
			settle(false)
		}
	}
	// One refill, one more try.
	now = now.Add(perUser.refill)
	if n := fail(l, "10.0.0.1", "ci", 3, now); n != 1 {
		t.Errorf("%d failures admitted after a refill, want 1", n)
	}
}

// A spray over many names from one address meets the address's own limit.
func TestFailureLimiterPerAddress(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	admitted := 0
	for i := range perAddress.burst * 2 {
		admitted += fail(l, "2001:db8::1", fmt.Sprintf("user-%d", i), 1, now)
	}
	if admitted != perAddress.burst {
		t.Errorf("%d failures admitted over many names, want %d", admitted, perAddress.burst)
	}
	// Another address of the same /64 is the same client.
	if n := fail(l, "2001:db8::ffff", "someone", 1, now); n != 0 {
		t.Error("an address of the same /64 was admitted")
	}
}

// Successful checks cost nothing, and concurrent failures cannot overshoot the burst.
func TestFailureLimiterReservations(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	for range 1000 {
		settle, _, ok := l.admit("10.0.0.1", "alice", now)
		if !ok {
			t.Fatal("successful checks were limited")
		}
		settle(false)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if settle, _, ok := l.admit("10.0.0.9", "bob", now); ok {
				mu.Lock()
				admitted++
				mu.Unlock()
				settle(true)
			}
		}()
	}
	wg.Wait()
	if admitted != perUser.burst {
		t.Errorf("%d concurrent failures admitted, want %d", admitted, perUser.burst)
	}
}

func TestFailureLimiterIsBounded(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	for i := range maxTracked {
		fail(l, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "u", 1, now)
	}
	if len(l.buckets) > maxTracked {
		t.Errorf("%d buckets, more than %d", len(l.buckets), maxTracked)
	}
}
