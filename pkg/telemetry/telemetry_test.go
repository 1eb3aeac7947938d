package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/telemetry"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

func setup(t *testing.T) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.Setup(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// scrape is the process's metrics in the text format.
func scrape(t *testing.T, tel *telemetry.Telemetry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.Metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

func wantLine(t *testing.T, metrics, line string) {
	t.Helper()
	if !strings.Contains(metrics, "\n"+line+"\n") {
		t.Errorf("metrics lack %s", line)
	}
}

// Requests are counted by the route their handler names, never by their path.
func TestHTTPMetricsByRoute(t *testing.T) {
	tel := setup(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		telemetry.SetRoute(r.Context(), "/things/{id}")
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(telemetry.HTTPMetrics(mux))
	defer srv.Close()
	for _, p := range []string{"/things/1", "/things/2"} {
		resp, err := http.Post(srv.URL+p, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/no/such/path")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	m := scrape(t, tel)
	wantLine(t, m, `spackmon_http_requests_total{code="201",method="POST",route="/things/{id}"} 2`)
	wantLine(t, m, `spackmon_http_requests_total{code="404",method="GET",route="other"} 1`)
	wantLine(t, m, `spackmon_http_request_duration_seconds_count{method="POST",route="/things/{id}"} 2`)
	if strings.Contains(m, "/things/1") {
		t.Error("a raw path became a label value")
	}
}

// Calls are counted by method and code, and their spans carry the build and spec they are
// about.
func TestGRPCMetricsAndAttributes(t *testing.T) {
	tel := setup(t)
	spans := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("test")
	interceptor := telemetry.UnaryServerMetrics()
	call := func(method string, req, resp any, err error) {
		ctx, span := tracer.Start(context.Background(), method)
		defer span.End()
		_, _ = interceptor(ctx, req, &grpc.UnaryServerInfo{FullMethod: "/spackmon.ingest.v1.IngestService/" + method},
			func(context.Context, any) (any, error) { return resp, err })
	}
	call("UpdatePhase", &ingestv1.UpdatePhaseRequest{BuildId: 7}, &ingestv1.UpdatePhaseResponse{}, nil)
	call("NewSpec", &ingestv1.NewSpecRequest{}, &ingestv1.NewSpecResponse{Spec: &ingestv1.SpecSummary{FullHash: "abc123"}}, nil)
	call("UpdatePhase", &ingestv1.UpdatePhaseRequest{BuildId: 8}, nil, status.Error(codes.PermissionDenied, "not yours"))

	m := scrape(t, tel)
	wantLine(t, m, `spackmon_grpc_server_handled_total{grpc_code="OK",grpc_method="UpdatePhase",grpc_service="spackmon.ingest.v1.IngestService"} 1`)
	wantLine(t, m, `spackmon_grpc_server_handled_total{grpc_code="PermissionDenied",grpc_method="UpdatePhase",grpc_service="spackmon.ingest.v1.IngestService"} 1`)
	wantLine(t, m, `spackmon_grpc_server_handling_seconds_count{grpc_method="NewSpec",grpc_service="spackmon.ingest.v1.IngestService"} 1`)

	got := map[string]string{}
	for _, s := range spans.Ended() {
		for _, a := range s.Attributes() {
			got[s.Name()+" "+string(a.Key)] = a.Value.Emit()
		}
	}
	if got["UpdatePhase "+telemetry.AttrBuildID] != "8" || got["NewSpec "+telemetry.AttrSpecHash] != "abc123" {
		t.Errorf("span attributes %v", got)
	}
	if _, ok := got["NewSpec "+telemetry.AttrBuildID]; ok {
		t.Error("a call about no build has a build id")
	}
}

// Database pools are read when the metrics are scraped.
func TestDatabasePoolGauges(t *testing.T) {
	tel := setup(t)
	inUse := int64(3)
	telemetry.ObserveDatabasePool("ingest", "pgx", func() telemetry.PoolStats {
		return telemetry.PoolStats{InUse: inUse, Idle: 1, Max: 8, WaitCount: 2, Waited: 0.5}
	})
	wantLine(t, scrape(t, tel), `spackmon_db_pool_connections{pool="pgx",service="ingest",state="in_use"} 3`)
	inUse = 5
	m := scrape(t, tel)
	wantLine(t, m, `spackmon_db_pool_connections{pool="pgx",service="ingest",state="in_use"} 5`)
	wantLine(t, m, `spackmon_db_pool_max_connections{pool="pgx",service="ingest"} 8`)
	wantLine(t, m, `spackmon_db_pool_wait_seconds_total{pool="pgx",service="ingest"} 0.5`)
}

// A service's database is labelled by the service's short name, as its pools are.
func TestDatabaseUp(t *testing.T) {
	tel := setup(t)
	telemetry.DatabaseUp("spackmon.analysis.v1.AnalysisService", false)
	telemetry.DatabaseUp("spackmon.auth.v1.AuthService", true)
	m := scrape(t, tel)
	wantLine(t, m, `spackmon_database_up{service="analysis"} 0`)
	wantLine(t, m, `spackmon_database_up{service="auth"} 1`)
}
