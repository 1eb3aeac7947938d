package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/spackmon/spackmon/pkg/authn"
)

type limitKey struct{}

// limitedBody is the request body cut off at the configured size. It remembers having hit
// the limit, so the error handler can answer 413 whatever error the read turned into on its
// way through the generated handlers.
type limitedBody struct {
	io.ReadCloser
	declared int64 // the Content-Length, or -1
	exceeded bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		b.exceeded = true
	}
	return n, err
}

func bodyTooLarge(r *http.Request) bool {
	b, ok := r.Context().Value(limitKey{}).(*limitedBody)
	return ok && b.exceeded
}

// limitBodies answers 413 at once for a declared length over the limit and cuts off bodies
// that grow past it. A protocol write without a token is challenged without its body reaching
// the services: nobody may make them decode up to the limit for nothing.
func (g *Gateway) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.cfg.Challenge != "" && r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/ms1/") && !hasBearer(r) {
			g.challenge(w, r)
			return
		}
		if r.ContentLength > g.cfg.MaxBodyBytes {
			g.writeTooLarge(w)
			return
		}
		body := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes), declared: r.ContentLength}
		r = r.WithContext(context.WithValue(r.Context(), limitKey{}, body))
		r.Body = body
		next.ServeHTTP(w, r)
	})
}

// challengeDrainBytes is how much of a write's body the gateway reads, and drops, before it
// challenges the write. Spack's client (Python's urllib) sends its whole body before it
// reads the answer: had the gateway answered and closed with the body unread, the client's
// connection would be reset and the 401 lost. A spec DAG or a phase log Spack posts first
// fits. Past this the gateway reads no further and closes the connection (that client may
// see a reset): anyone could otherwise make it read up to the body limit for nothing.
const challengeDrainBytes = 4 << 20

// challenge answers a protocol write that carries no token with the realm's challenge,
// after reading its body through (never keeping it) when that is small enough.
func (g *Gateway) challenge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Www-Authenticate", g.cfg.Challenge)
	limit := min(challengeDrainBytes, g.cfg.MaxBodyBytes)
	if r.ContentLength > limit || !drain(r.Body, limit) {
		w.Header().Set("Connection", "close")
	}
	writeError(w, http.StatusUnauthorized, errorBody{Message: authn.MessageNoToken})
}

// drain reads body to its end and drops it, and tells whether the end came within limit
// bytes (a failed read, such as a client gone, is no end).
func drain(body io.Reader, limit int64) bool {
	_, err := io.CopyN(io.Discard, body, limit+1)
	return errors.Is(err, io.EOF)
}

func hasBearer(r *http.Request) bool {
	for _, v := range r.Header.Values("Authorization") {
		if _, ok := authn.BearerToken(v); ok {
			return true
		}
	}
	return false
}
