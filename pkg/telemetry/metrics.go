package telemetry

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics spackmon itself defines, beside the Go runtime's and the process's. They
// live in the process (package variables) and every registry Setup makes serves them, so
// that the code counting needs no handle on the telemetry of its process. Label values
// come from short fixed sets (routes, methods, codes, reasons), never from what a client
// sends, so that no client can grow a series without bound.
var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spackmon_http_requests_total",
		Help: "HTTP requests the gateway answered, by route, method and status code.",
	}, []string{"route", "method", "code"})
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "spackmon_http_request_duration_seconds",
		Help:    "Time the gateway took to answer an HTTP request, by route and method.",
		Buckets: latencyBuckets,
	}, []string{"route", "method"})
	grpcHandled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spackmon_grpc_server_handled_total",
		Help: "gRPC calls a service answered, by service, method and status code.",
	}, []string{"grpc_service", "grpc_method", "grpc_code"})
	grpcDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "spackmon_grpc_server_handling_seconds",
		Help:    "Time a service took to answer a gRPC call, by service and method.",
		Buckets: latencyBuckets,
	}, []string{"grpc_service", "grpc_method"})
	databaseUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "spackmon_database_up",
		Help: "1 when the service's last health check reached its database, else 0 (checked every second).",
	}, []string{"service"})
	phaseBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "spackmon_phase_bytes_ingested_total",
		Help: "Bytes of phase logs stored, as sent (before compression).",
	})
	phaseEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spackmon_phase_events_ingested_total",
		Help: "Errors and warnings found in phase logs and stored, by kind.",
	}, []string{"kind"})
	phases = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "spackmon_phases_ingested_total",
		Help: "Phases stored.",
	})
	tokensIssued = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "spackmon_realm_tokens_issued_total",
		Help: "Realm tokens the auth service issued.",
	})
	tokensRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spackmon_realm_token_refusals_total",
		Help: "Requests for a realm token the auth service refused, by reason.",
	}, []string{"reason"})
)

// latencyBuckets span a cached read (a millisecond) to a 256 MiB log stored over a slow
// database (a minute).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// registerMetrics adds spackmon's own metrics to registry.
func registerMetrics(registry *prometheus.Registry) {
	registry.MustRegister(httpRequests, httpDuration, grpcHandled, grpcDuration, databaseUp,
		phaseBytes, phaseEvents, phases, tokensIssued, tokensRefused, databases)
}

// PhaseIngested counts a stored phase: the bytes of its log and the errors and warnings
// kept from it.
func PhaseIngested(logBytes int64, errors, warnings int) {
	phases.Inc()
	phaseBytes.Add(float64(logBytes))
	phaseEvents.WithLabelValues("error").Add(float64(errors))
	phaseEvents.WithLabelValues("warning").Add(float64(warnings))
}

// TokenIssued counts a realm token issued.
func TokenIssued() { tokensIssued.Inc() }

// TokenRefused counts a refused request for a realm token; reason must come from a fixed
// set of words.
func TokenRefused(reason string) { tokensRefused.WithLabelValues(reason).Inc() }

// DatabaseUp records whether the health check of the gRPC service (spackmon.ingest.v1.IngestService)
// reached its database, labelled by the service's short name (ingest), as the pools are.
func DatabaseUp(grpcService string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	databaseUp.WithLabelValues(shortService(grpcService)).Set(v)
}

// shortService is the role a spackmon gRPC service belongs to: "ingest" for
// spackmon.ingest.v1.IngestService; other names stay as they are.
func shortService(grpcService string) string {
	rest, ok := strings.CutPrefix(grpcService, "spackmon.")
	if !ok {
		return grpcService
	}
	role, _, _ := strings.Cut(rest, ".")
	return role
}
