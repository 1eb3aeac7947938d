package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// retryBusyAfter is the Retry-After, in seconds, of a body refused because too many bytes
// of other bodies are in flight: those finish in about that time.
const retryBusyAfter = "1"

// errBusy ends the read of a body of unknown length that would take the bodies in flight
// past their bound.
var errBusy = errors.New("too many request body bytes in flight")

// inflightBytes bounds the bytes of the request bodies the gateway holds at once: each body
// is held whole (and copied on its way to a service), so memory follows this bound rather
// than the number of clients. A body alone is always admitted, whatever its size (up to
// the body limit), so that no request is refused forever.
type inflightBytes struct {
	limit int64 // 0: no bound
	used  atomic.Int64
}

// tryAcquire takes n more bytes for a request that holds own already, unless that would go
// past the limit while others hold bytes too.
func (s *inflightBytes) tryAcquire(n, own int64) bool {
	for {
		u := s.used.Load()
		if u+n > s.limit && u > own {
			return false
		}
		if s.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (s *inflightBytes) release(n int64) { s.used.Add(-n) }

type busyKey struct{}

// countedBody charges a body of unknown length to the bound as it is read.
type countedBody struct {
	io.ReadCloser
	sem     *inflightBytes
	charged int64
	refused bool
}

func (b *countedBody) Read(p []byte) (int, error) {
	if b.refused {
		return 0, errBusy
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		if !b.sem.tryAcquire(int64(n), b.charged) {
			b.refused = true
			return 0, errBusy
		}
		b.charged += int64(n)
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

// limitInflight answers 503 with Retry-After to a body that would take the bytes in flight
// past the bound: a declared length is charged before the body is read, a body of unknown
// length as it arrives. The bytes are released once the answer is written.
func (g *Gateway) limitInflight(next http.Handler) http.Handler {
	if g.cfg.InflightBodyBytes <= 0 {
		return next
	}
	sem := &inflightBytes{limit: g.cfg.InflightBodyBytes}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0:
			next.ServeHTTP(w, r)
		case r.ContentLength > 0:
			if !sem.tryAcquire(r.ContentLength, 0) {
				discardAll(r.Body)
				writeBusy(w)
				return
			}
			defer sem.release(r.ContentLength)
			next.ServeHTTP(w, r)
		default:
			body := &countedBody{ReadCloser: r.Body, sem: sem}
			defer func() { sem.release(body.charged) }()
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
