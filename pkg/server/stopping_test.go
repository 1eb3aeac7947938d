package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"
)

// A server told to stop says NOT_SERVING at once to Check, whatever its last check found,
// so that readiness turns false before the calls in flight are finished and the server goes.
func TestHealthNotServingOnceStopping(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := newHealth(ctx, map[string]Check{"db": func(context.Context) error { return nil }}, nil)
	ask := func() grpc_health_v1.HealthCheckResponse_ServingStatus {
		t.Helper()
		resp, err := h.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: "db"})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus()
	}
	if got := ask(); got != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Fatalf("before the stop: %v", got)
	}
	cancel()
	if got := ask(); got != grpc_health_v1.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("stopping: %v, want NOT_SERVING", got)
	}
}

// The grace period starts when the context ends, not before.
func TestGracePeriodStartsAtTheStop(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	cutoff, cancel := GracePeriod(ctx, time.Millisecond)
	defer cancel()
	if cutoff.Err() != nil {
		t.Fatal("the grace period ended before the stop")
	}
	stop()
	<-cutoff.Done()
}
