// Package watch tells the watchers of a build, in one process, that the build changed.
// It carries no data: a watcher woken reads what changed from the store, so a slow watcher
// costs one pending wake-up, never a queue.
package watch

import (
	"sync"

	"github.com/spackmon/spackmon/pkg/errs"
)

// Hub holds the watchers of one process, within a cap per process and per build.
type Hub struct {
	mu         sync.Mutex
	perProcess int
	perBuild   int
	total      int
	builds     map[int64]map[*Watcher]struct{}
}

// NewHub returns a hub that takes at most perProcess watchers, perBuild of them on one build.
func NewHub(perProcess, perBuild int) *Hub {
	return &Hub{perProcess: perProcess, perBuild: perBuild, builds: map[int64]map[*Watcher]struct{}{}}
}

// Watcher is one watch of a build. Changed has a value when the build changed since the
// watcher last took one; wake-ups that come while one is pending merge into it.
type Watcher struct {
	hub     *Hub
	buildID int64
	changed chan struct{}
}

// Changed is where the watcher learns that its build changed.
func (w *Watcher) Changed() <-chan struct{} { return w.changed }

// Watch registers a watcher of buildID, or says errs.RateLimited when a cap is reached.
func (h *Hub) Watch(buildID int64) (*Watcher, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.total >= h.perProcess {
		return nil, errs.New(errs.RateLimited, "This server has as many watchers as it takes (%d); try again later.", h.perProcess)
	}
	set := h.builds[buildID]
	if len(set) >= h.perBuild {
		return nil, errs.New(errs.RateLimited, "Build %d has as many watchers as it takes (%d); try again later.", buildID, h.perBuild)
	}
	if set == nil {
		set = map[*Watcher]struct{}{}
		h.builds[buildID] = set
	}
	w := &Watcher{hub: h, buildID: buildID, changed: make(chan struct{}, 1)}
	set[w] = struct{}{}
	h.total++
	return w, nil
}

// Close ends the watch; closing twice is harmless.
func (w *Watcher) Close() {
	h := w.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.builds[w.buildID]
	if _, ok := set[w]; !ok {
		return
	}
	delete(set, w)
	h.total--
	if len(set) == 0 {
		delete(h.builds, w.buildID)
	}
}

// Changed wakes the watchers of buildID.
func (h *Hub) Changed(buildID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.builds[buildID] {
		w.wake()
	}
}

// ChangedAll wakes every watcher: after changes may have gone unannounced (the connection
// that hears them was lost), each one looks for itself.
func (h *Hub) ChangedAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.builds {
		for w := range set {
			w.wake()
		}
	}
}

// Watchers counts the watchers registered.
func (h *Hub) Watchers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

func (w *Watcher) wake() {
	select {
	case w.changed <- struct{}{}:
	default: // one is pending already
	}
}
