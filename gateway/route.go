package gateway

import (
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

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
