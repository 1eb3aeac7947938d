package watch

import (
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
)

func woken(w *Watcher) bool {
	select {
	case <-w.Changed():
		return true
	default:
		return false
	}
}

// Wake-ups merge while one is pending: a watcher that does not take them holds one, not a
// queue; a change of another build wakes no one else.
func TestWakeUpsMerge(t *testing.T) {
	h := NewHub(10, 10)
	a, err := h.Watch(1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Watch(2)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		h.Changed(1)
	}
	if !woken(a) || woken(a) || woken(b) {
		t.Error("a thousand changes of build 1: want one wake-up of its watcher and none of build 2's")
	}
	h.ChangedAll()
	if !woken(a) || !woken(b) {
		t.Error("ChangedAll woke not every watcher")
	}
}

// The caps per build and per process refuse the watcher past them; closing frees a place,
// and closing twice frees one.
func TestCaps(t *testing.T) {
	h := NewHub(3, 2)
	first, _ := h.Watch(1)
	if _, err := h.Watch(1); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Watch(1); !errs.Is(err, errs.RateLimited) {
		t.Errorf("a third watcher of build 1: %v", err)
	}
	if _, err := h.Watch(2); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Watch(3); !errs.Is(err, errs.RateLimited) {
		t.Errorf("a fourth watcher in all: %v", err)
	}
	first.Close()
	first.Close()
	if h.Watchers() != 2 {
		t.Errorf("%d watchers after one closed (twice), want 2", h.Watchers())
	}
	if _, err := h.Watch(3); err != nil {
		t.Errorf("a watcher after one left: %v", err)
	}
	h.Changed(1)
	if woken(first) {
		t.Error("a closed watcher was woken")
	}
}
