package service

import (
	"fmt"
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	for i := range failureBurst {
		if _, blocked := l.blocked("10.0.0.1", now); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail("10.0.0.1", now)
	}
	wait, blocked := l.blocked("10.0.0.1", now)
	if !blocked || wait <= 0 || wait > failureRefill {
		t.Fatalf("after %d failures: blocked %t, wait %v", failureBurst, blocked, wait)
	}
	if _, blocked := l.blocked("10.0.0.2", now); blocked {
		t.Error("another address is blocked")
	}
	// Asking does not cost: the address is free again after one refill, for one try.
	now = now.Add(failureRefill)
	if _, blocked := l.blocked("10.0.0.1", now); blocked {
		t.Error("still blocked after a refill")
	}
	l.fail("10.0.0.1", now)
	if _, blocked := l.blocked("10.0.0.1", now); !blocked {
		t.Error("a refill allowed more than one try")
	}
}

func TestFailureLimiterForgetsIdleAddresses(t *testing.T) {
	l := newFailureLimiter()
	now := time.Unix(1_000_000, 0)
	for i := range maxTracked {
		l.fail(fmt.Sprintf("addr-%d", i), now)
	}
	// Long after, every address is back at a full allowance and makes room for new ones.
	l.fail("late", now.Add(failureBurst*failureRefill))
	if len(l.addrs) != 1 {
		t.Errorf("%d addresses tracked, want only the late one", len(l.addrs))
	}
}
