package server

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// serveHealth serves the checks over loopback until the test ends and returns a client.
func serveHealth(t *testing.T, checks map[string]Check) grpc_health_v1.HealthClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewGRPC(ctx, GRPCOptions{MaxPayloadBytes: 1 << 10}, checks)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, s, lis) }()
	conn, err := Dial(lis.Addr().String(), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return grpc_health_v1.NewHealthClient(conn)
}

// A watcher hears each change of a check's outcome, both ways, and an unknown service is
// said to be one.
func TestHealthWatch(t *testing.T) {
	var failing atomic.Bool
	client := serveHealth(t, map[string]Check{"db": func(context.Context) error {
		if failing.Load() {
			return errors.New("database gone")
		}
		return nil
	}})
	stream, err := client.Watch(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: "db"})
	if err != nil {
		t.Fatal(err)
	}
	next := func(want grpc_health_v1.HealthCheckResponse_ServingStatus) {
		t.Helper()
		resp, err := stream.Recv()
		if err != nil || resp.GetStatus() != want {
			t.Fatalf("watch: %v %v, want %v", resp.GetStatus(), err, want)
		}
	}
	next(grpc_health_v1.HealthCheckResponse_SERVING)
	failing.Store(true)
	next(grpc_health_v1.HealthCheckResponse_NOT_SERVING)
	if resp, err := client.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: "db"}); err != nil || resp.GetStatus() != grpc_health_v1.HealthCheckResponse_NOT_SERVING {
		t.Errorf("check while failing: %v %v", resp.GetStatus(), err)
	}
	failing.Store(false)
	next(grpc_health_v1.HealthCheckResponse_SERVING)

	if _, err := client.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("check of an unknown service: %v", err)
	}
	unknown, err := client.Watch(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := unknown.Recv(); err != nil || resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVICE_UNKNOWN {
		t.Errorf("watch of an unknown service: %v %v", resp.GetStatus(), err)
	}
}

// A health call answers from the last outcome while a check waits (a busy database pool):
// it never waits on a check itself, so it cannot time out where the database only is slow.
func TestHealthCheckDoesNotWaitForChecks(t *testing.T) {
	var block atomic.Bool
	release := make(chan struct{})
	waiting := make(chan struct{}, 1)
	client := serveHealth(t, map[string]Check{"db": func(ctx context.Context) error {
		if !block.Load() {
			return nil
		}
		select {
		case waiting <- struct{}{}:
		default:
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	block.Store(true)
	<-waiting // a check is under way and blocked
	resp, err := client.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: "db"})
	close(release)
	if err != nil || resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Errorf("check while the check waits: %v %v, want SERVING", resp.GetStatus(), err)
	}
}

// The liveness service serves while a check fails: a database away makes the services
// unready, and restarts none of them.
func TestLivenessIgnoresChecks(t *testing.T) {
	client := serveHealth(t, map[string]Check{"db": func(context.Context) error { return errors.New("database gone") }})
	for service, want := range map[string]grpc_health_v1.HealthCheckResponse_ServingStatus{
		"db": grpc_health_v1.HealthCheckResponse_NOT_SERVING, "": grpc_health_v1.HealthCheckResponse_NOT_SERVING,
		LivenessService: grpc_health_v1.HealthCheckResponse_SERVING,
	} {
		if resp, err := client.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: service}); err != nil || resp.GetStatus() != want {
			t.Errorf("%q: %v %v, want %v", service, resp.GetStatus(), err, want)
		}
	}
}
