package gateway

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/spackmon/spackmon/gateway/ui"
	"github.com/spackmon/spackmon/pkg/telemetry"
)

// nameRoute names the route of a request the grpc-gateway mux serves by the path pattern
// it matched (/ms1/builds/{build_id}), for its metrics and span.
func nameRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if pattern, ok := runtime.HTTPPattern(r.Context()); ok {
			telemetry.SetRoute(r.Context(), pattern.String())
		}
		next(w, r, params)
	}
}

// allowProbe marks a request the gateway routes only to learn whether its method has a
// route (allowedMethods): the route is noted, its handler never runs.
type allowProbe struct{ matched bool }

type allowProbeKey struct{}

// probeRoute answers an allowProbe before the route's handler runs.
func probeRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if p, ok := r.Context().Value(allowProbeKey{}).(*allowProbe); ok {
			p.matched = true
			return
		}
		next(w, r, params)
	}
}

// allowedMethods is the Allow header of a 405 for r's path: the methods it has a route for,
// found by routing a probe of each through the mux.
func (g *Gateway) allowedMethods(r *http.Request) string {
	return ui.AllowHeader(func(method string) bool {
		p := &allowProbe{}
		probe := r.Clone(context.WithValue(r.Context(), allowProbeKey{}, p))
		probe.Method, probe.Body, probe.ContentLength = method, http.NoBody, 0
		g.mux.ServeHTTP(discardResponse{}, probe)
		return p.matched
	})
}

// discardResponse is where a probe's answer goes: nowhere.
type discardResponse struct{}

func (discardResponse) Header() http.Header         { return http.Header{} }
func (discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (discardResponse) WriteHeader(int)             {}
