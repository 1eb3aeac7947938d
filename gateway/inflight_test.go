package gateway

import (
	"context"
	"testing"
	"time"
)

// A body that does not fit waits for the bytes of others, and is admitted once they are
// released; with no wait it is refused at once; a body alone always fits.
func TestInflightBytesWait(t *testing.T) {
	s := newInflightBytes(100, time.Hour)
	if !s.acquire(context.Background(), 80) {
		t.Fatal("a body alone was refused")
	}
	admitted := make(chan bool, 1)
	go func() { admitted <- s.acquire(context.Background(), 50) }()
	if !s.acquire(context.Background(), 20) {
		t.Fatal("a body that fits was refused")
	}
	select {
	case ok := <-admitted:
		t.Fatalf("a body past the bound was answered (%t) while the others held their bytes", ok)
	default:
	}
	s.release(80)
	if !<-admitted {
		t.Fatal("the waiting body was refused once room was made")
	}
	s.release(20)
	s.release(50)

	now := newInflightBytes(100, 0)
	now.acquire(context.Background(), 60)
	if now.acquire(context.Background(), 60) {
		t.Error("with no wait, a body past the bound was admitted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.acquire(ctx, 80)
	if s.acquire(ctx, 80) {
		t.Error("a body past the bound was admitted for a client gone")
	}
	if big := newInflightBytes(100, 0); !big.acquire(context.Background(), 1000) {
		t.Error("a body larger than the bound was refused while alone")
	}
}
