package telemetry

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// unrouted is the route of a request no handler named: a path that fits no route, or a
// handler that does not say (bounded, whatever paths clients try).
const unrouted = "other"

type routeKey struct{}

// routeSlot is where the handler that serves a request writes the route it served.
type routeSlot struct{ route string }

// HTTPMetrics counts each request next answers and times it, by the route the serving
// handler names with SetRoute.
func HTTPMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slot := &routeSlot{route: unrouted}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, slot))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		method := methodLabel(r.Method)
		httpRequests.WithLabelValues(slot.route, method, strconv.Itoa(rec.status)).Inc()
		httpDuration.WithLabelValues(slot.route, method).Observe(time.Since(start).Seconds())
	})
}

// SetRoute names the route (a pattern such as /ms1/builds/{build_id}/phases, never a raw
// path) the request of ctx is served by, for its metrics and its span.
func SetRoute(ctx context.Context, route string) {
	if slot, ok := ctx.Value(routeKey{}).(*routeSlot); ok {
		slot.route = route
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("http.route", route))
}

// methodLabel keeps the label to the methods HTTP defines.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush passes flushes through, for handlers that stream.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		s.wroteHeader = true
		f.Flush()
	}
}
