package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"

	"github.com/spackmon/spackmon/pkg/telemetry"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// What counting and timing adds to a request: the same handler bare and wrapped.
func BenchmarkHTTPMetrics(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.SetRoute(r.Context(), "/ms1/builds/new")
		w.WriteHeader(http.StatusCreated)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", handler}, {"counted", telemetry.HTTPMetrics(handler)}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/ms1/builds/new/", nil)
			for b.Loop() {
				c.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// What the interceptor adds to a gRPC call (its build id read by reflection included).
func BenchmarkUnaryServerMetrics(b *testing.B) {
	intercept := telemetry.UnaryServerMetrics()
	info := &grpc.UnaryServerInfo{FullMethod: "/spackmon.ingest.v1.IngestService/UpdatePhase"}
	req := &ingestv1.UpdatePhaseRequest{BuildId: 7, PhaseName: "build", Status: "SUCCESS"}
	resp := &ingestv1.UpdatePhaseResponse{}
	handler := func(context.Context, any) (any, error) { return resp, nil }
	ctx := context.Background()
	for b.Loop() {
		_, _ = intercept(ctx, req, info, handler)
	}
}
