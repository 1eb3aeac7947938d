package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/spackmon/spackmon/pkg/budget"
)

// retryBusyAfter is the Retry-After, in seconds, of a body refused because too many bytes
// of other bodies are in flight: those finish in about that time.
const retryBusyAfter = "1"

// errBusy ends the read of a body of unknown length that would take the bodies in flight
// past their bound.
var errBusy = errors.New("too many request body bytes in flight")

// A body costs more memory than its own bytes until it is answered: a body decoded whole
// is held as read, as its protobuf message, encoded for the in-process connection (in a
// buffer up to twice its size), as the message the service decodes, and as what the
// service parses it into (a spec DAG's nodes). A phase update is streamed, but ingest
// gathers the whole log, and compresses and parses it. The factors count those copies.
const (
	bodyCopies  = 6
	phaseCopies = 2
)

type busyKey struct{}

// countedBody charges a body of unknown length to the bound as it is read.
type countedBody struct {
	io.ReadCloser
	sem     *budget.Bytes
	copies  int64
	charged int64
	refused bool
}

func (b *countedBody) Read(p []byte) (int, error) {
	if b.refused {
		return 0, errBusy
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		cost := int64(n) * b.copies
		if ok, _ := b.sem.TryAcquire(cost, b.charged); !ok {
			b.refused = true
			return 0, errBusy
		}
		b.charged += cost
	}
	return n, err
}

// bodyRefusedBusy reports whether the read of r's body was cut off by the bound, and then
// reads the rest of it.
func bodyRefusedBusy(r *http.Request) bool {
	b, ok := r.Context().Value(busyKey{}).(*countedBody)
	if !ok || !b.refused {
		return false
	}
	discardAll(b.ReadCloser)
	return true
}

// discardAll reads a refused body to its end (at most the body limit), holding none of it: a
// client that is still sending, as Spack does, would otherwise see its connection closed
// under it instead of the answer.
func discardAll(body io.Reader) {
	_, _ = io.Copy(io.Discard, body)
}

// bodyCost is the number of copies of r's body held until it is answered.
func bodyCost(r *http.Request) int64 {
	if r.URL.Path == phaseUpdatePath {
		return phaseCopies
	}
	return bodyCopies
}

// limitPart bounds the body of a CDash or JUnit upload as limitInflight does, except for a
// part declared past maxPart: that one is refused at once (413), never made to wait
// for room.
func (g *Gateway) limitPart(next http.Handler) http.Handler {
	limited := g.limitInflight(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > g.maxPart() {
			next.ServeHTTP(w, r)
			return
		}
		limited.ServeHTTP(w, r)
	})
}

// limitInflight answers 503 with Retry-After to a body that would take the bytes in flight
// past the bound for longer than the configured wait: a declared length is charged before
// the body is read, a body of unknown length as it arrives (and refused at once). The bytes
// are released once the answer is written.
func (g *Gateway) limitInflight(next http.Handler) http.Handler {
	if g.inflight == nil {
		return next
	}
	sem := g.inflight
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0:
			next.ServeHTTP(w, r)
		case r.ContentLength > 0:
			cost := r.ContentLength * bodyCost(r)
			if !sem.Acquire(r.Context(), cost) {
				discardAll(r.Body)
				writeBusy(w)
				return
			}
			defer sem.Release(cost)
			next.ServeHTTP(w, r)
		default:
			body := &countedBody{ReadCloser: r.Body, sem: sem, copies: bodyCost(r)}
			defer func() { sem.Release(body.charged) }()
			r = r.WithContext(context.WithValue(r.Context(), busyKey{}, body))
			r.Body = body
			next.ServeHTTP(w, r)
		}
	})
}

func writeBusy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", retryBusyAfter)
	writeError(w, http.StatusServiceUnavailable, errorBody{Message: "The server is receiving too much data right now; try again shortly."})
}
