package server

import (
	"context"
	"errors"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

// A service served on an in-process listener answers through the same server (health here)
// as over the network, and a closed listener refuses new connections.
func TestInProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := NewGRPC(ctx, GRPCOptions{MaxPayloadBytes: 1 << 10}, map[string]Check{"svc": func(context.Context) error { return nil }})
	l := NewInProcess()
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	conn, err := DialInProcess(l, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "svc"})
	if err != nil || resp.Status != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Fatalf("health over the in-process connection: %v, %v", resp, err)
	}
	s.GracefulStop()
	if err := <-done; err != nil {
		t.Fatalf("Serve after stop: %v", err)
	}
	if _, err := l.DialContext(ctx, ""); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("dial of a closed listener: %v", err)
	}
}

// echo answers a unary call with a payload of the size asked.
type echo struct {
	testpb.UnimplementedBenchmarkServiceServer
}

func (echo) UnaryCall(_ context.Context, r *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, r.ResponseSize)}}, nil
}

// What the loopback socket costs a call between roles of one process, against the
// in-process connection serve uses: a request of the size given and a small answer, through
// the servers and clients of this package (telemetry included).
func BenchmarkInProcess(b *testing.B) {
	s := NewGRPC(b.Context(), GRPCOptions{MaxPayloadBytes: 4 << 20}, nil)
	testpb.RegisterBenchmarkServiceServer(s, echo{})
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	inProcess := NewInProcess()
	go func() { _ = s.Serve(tcp) }()
	go func() { _ = s.Serve(inProcess) }()
	b.Cleanup(s.Stop)
	conns := map[string]func() (*grpc.ClientConn, error){
		"loopback-tcp": func() (*grpc.ClientConn, error) { return Dial(tcp.Addr().String(), 4<<20) },
		"in-process":   func() (*grpc.ClientConn, error) { return DialInProcess(inProcess, 4<<20) },
	}
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		for _, name := range []string{"loopback-tcp", "in-process"} {
			b.Run(name+"/"+sizeName(size), func(b *testing.B) {
				conn, err := conns[name]()
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				client := testpb.NewBenchmarkServiceClient(conn)
				req := &testpb.SimpleRequest{ResponseSize: 16, Payload: &testpb.Payload{Body: make([]byte, size)}}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := client.UnaryCall(b.Context(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return "1MiB"
	}
	return map[int]string{1 << 10: "1KiB", 64 << 10: "64KiB"}[n]
}
