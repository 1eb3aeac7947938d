package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// at is a clock standing still at now.
func at(now time.Time) func() time.Time { return func() time.Time { return now } }

// fail makes n failed checks of user at addr, one after another, and reports how many were
// admitted.
func fail(l *failureLimiter, addr, user string, n int, now time.Time) int {
	admitted := 0
	for range n {
		if settle, err := l.admit(context.Background(), addr, user, at(now)); err == nil {
			settle(true)
			admitted++
		}
	}
	return admitted
}

// refusedFor is how long the limiter asked to wait, or 0 when err is not its refusal.
func refusedFor(err error) time.Duration {
	var limited *tooManyFailures
	if errors.As(err, &limited) {
		return limited.wait
	}
	return 0
}

func TestFailureLimiterPerUser(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	if n := fail(l, "10.0.0.1", "ci", perUser.burst+5, now); n != perUser.burst {
		t.Fatalf("%d failures admitted, want %d", n, perUser.burst)
	}
	_, err := l.admit(context.Background(), "10.0.0.1", "ci", at(now))
	if wait := refusedFor(err); wait <= 0 || wait > perUser.refill {
		t.Fatalf("after the burst: %v, wait %v", err, wait)
	}
	// Other users behind the same address, and the same user elsewhere, are not held up.
	for _, c := range [][2]string{{"10.0.0.1", "alice"}, {"10.0.0.2", "ci"}} {
		if settle, err := l.admit(context.Background(), c[0], c[1], at(now)); err != nil {
			t.Errorf("%s at %s is limited: %v", c[1], c[0], err)
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

// checkAtOnce runs n checks of user at addr at the same time, each ending as failed says,
// and reports how many were admitted and how many refused as too many failures.
func checkAtOnce(t *testing.T, l *failureLimiter, addr, user string, n int, now time.Time, failed bool) (admitted, refused int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			settle, err := l.admit(context.Background(), addr, user, at(now))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				admitted++
				settle(failed)
			case refusedFor(err) > 0:
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	return admitted, refused
}

// Successful checks cost nothing however many run at once, and concurrent failures cannot
// overshoot the burst.
func TestFailureLimiterConcurrentChecks(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	for range 10 {
		if admitted, _ := checkAtOnce(t, l, "10.0.0.1", "alice", 64, now, false); admitted != 64 {
			t.Fatalf("%d of 64 concurrent successful checks admitted", admitted)
		}
	}
	admitted, refused := checkAtOnce(t, l, "10.0.0.9", "bob", 64, now, true)
	if admitted != perUser.burst || refused != 64-perUser.burst {
		t.Errorf("64 concurrent failures: %d admitted, %d refused; want %d admitted", admitted, refused, perUser.burst)
	}
}

// holdChecks admits n checks of user at addr and leaves them in progress.
func holdChecks(t *testing.T, l *failureLimiter, addr, user string, n int, now time.Time) []func(bool) {
	t.Helper()
	var settles []func(bool)
	for range n {
		settle, err := l.admit(context.Background(), addr, user, at(now))
		if err != nil {
			t.Fatal(err)
		}
		settles = append(settles, settle)
	}
	return settles
}

// admitLater starts a check that waits; it returns the check's outcome once it is waiting.
func admitLater(t *testing.T, l *failureLimiter, ctx context.Context, addr, user string, now time.Time) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		settle, err := l.admit(ctx, addr, user, at(now))
		if err == nil {
			settle(false)
		}
		done <- err
	}()
	// Waiting shows as the bucket's channel; until it is closed, the check cannot return.
	for waiting := false; !waiting; {
		l.mu.Lock()
		waiting = l.buckets["u|"+addr+"|"+user].ended != nil
		l.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("a check ended while the allowance was held by checks in progress: %v", err)
	default:
	}
	return done
}

// With the whole allowance held by checks in progress, the next check waits: it runs when
// one of them succeeds, is refused when they all fail, and gives up with its context.
func TestFailureLimiterWaitsForChecksInProgress(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)

	held := holdChecks(t, l, "10.0.0.1", "alice", perUser.burst, now)
	done := admitLater(t, l, context.Background(), "10.0.0.1", "alice", now)
	held[0](false)
	if err := <-done; err != nil {
		t.Errorf("after a check in progress succeeded: %v", err)
	}
	held = append(held[1:], holdChecks(t, l, "10.0.0.1", "alice", 1, now)...)

	done = admitLater(t, l, context.Background(), "10.0.0.1", "alice", now)
	for _, settle := range held {
		settle(true)
	}
	if err := <-done; refusedFor(err) <= 0 {
		t.Errorf("after the checks in progress all failed: %v, want a refusal", err)
	}

	held = holdChecks(t, l, "10.0.0.2", "bob", perUser.burst, now)
	ctx, cancel := context.WithCancel(context.Background())
	done = admitLater(t, l, ctx, "10.0.0.2", "bob", now)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("a waiting check whose context ended: %v", err)
	}
	for _, settle := range held {
		settle(false)
	}
}

func TestFailureLimiterIsBounded(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	addr := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for i := range maxTracked {
		fail(l, addr(i), "u", 1, now)
	}
	if len(l.buckets) > maxTracked {
		t.Errorf("%d buckets, more than %d", len(l.buckets), maxTracked)
	}
	// Buckets of checks in progress are kept, past the bound if need be (the checks in
	// progress bound them then): the failures settled on them must count.
	l = newFailureLimiter()
	var settles []func(bool)
	for i := range maxTracked {
		settle, err := l.admit(context.Background(), addr(i), "u", at(now))
		if err != nil {
			t.Fatal(err)
		}
		settles = append(settles, settle)
	}
	for _, settle := range settles {
		settle(true)
	}
	for i := range maxTracked {
		if b := l.buckets["u|"+addr(i)+"|u"]; b == nil || b.tokens != float64(perUser.burst-1) {
			t.Fatalf("the bucket of check %d: %+v", i, b)
		}
	}
}

// What a successful login pays the limiter, from many goroutines at once for one user.
func BenchmarkFailureLimiterGoodLogins(b *testing.B) {
	l := newFailureLimiter()
	clock := at(time.Unix(1_000_000, 0))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			settle, err := l.admit(context.Background(), "10.0.0.1", "alice", clock)
			if err != nil {
				b.Error(err)
				return
			}
			settle(false)
		}
	})
}
