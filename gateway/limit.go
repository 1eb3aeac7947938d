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
// that grow past it. A protocol write without a token is challenged before its body is read:
// nobody may make the services decode up to the limit for nothing.
func (g *Gateway) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.cfg.Challenge != "" && r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/ms1/") && !hasBearer(r) {
			w.Header().Set("Www-Authenticate", g.cfg.Challenge)
			writeError(w, http.StatusUnauthorized, errorBody{Message: authn.MessageNoToken})
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

func hasBearer(r *http.Request) bool {
	for _, v := range r.Header.Values("Authorization") {
		if _, ok := authn.BearerToken(v); ok {
			return true
		}
	}
	return false
}
