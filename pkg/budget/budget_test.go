package budget

import (
	"context"
	"testing"
	"time"
)

// Work that does not fit waits for the bytes of others, and is admitted once they are
// released; with no wait it is refused at once; a body alone always fits.
func TestWait(t *testing.T) {
	s := New(100, time.Hour)
	if !s.Acquire(context.Background(), 80) {
		t.Fatal("a body alone was refused")
	}
	admitted := make(chan bool, 1)
	go func() { admitted <- s.Acquire(context.Background(), 50) }()
	if !s.Acquire(context.Background(), 20) {
		t.Fatal("a body that fits was refused")
	}
	select {
	case ok := <-admitted:
		t.Fatalf("a body past the bound was answered (%t) while the others held their bytes", ok)
	default:
	}
	s.Release(80)
	if !<-admitted {
		t.Fatal("the waiting body was refused once room was made")
	}
	s.Release(20)
	s.Release(50)

	now := New(100, 0)
	now.Acquire(context.Background(), 60)
	if now.Acquire(context.Background(), 60) {
		t.Error("with no wait, a body past the bound was admitted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Acquire(ctx, 80)
	if s.Acquire(ctx, 80) {
		t.Error("a body past the bound was admitted for a client gone")
	}
	big := New(100, 0)
	if !big.Acquire(context.Background(), 1000) {
		t.Error("a body larger than the bound was refused while alone")
	}
	if !big.Acquire(context.Background(), 0) {
		t.Error("work of no bytes was refused while work alone held more than the bound")
	}
}
