package server

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// A server retires its clients' connections after maxConnectionAge: a client then asks its
// resolver for the service's addresses again, which is how it finds replicas added since
// it connected. A stream open across the age is not cut.
func TestConnectionAgeMakesClientsResolveAgain(t *testing.T) {
	defer func(age time.Duration) { maxConnectionAge = age }(maxConnectionAge)
	maxConnectionAge = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewGRPC(ctx, GRPCOptions{MaxPayloadBytes: 1 << 10}, map[string]Check{"db": func(context.Context) error { return nil }})
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, s, lis) }()
	defer func() { cancel(); <-done }()

	var resolved atomic.Int32
	r := manual.NewBuilderWithScheme("spackmontest")
	r.ResolveNowCallback = func(resolver.ResolveNowOptions) { resolved.Add(1) }
	r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: lis.Addr().String()}}})
	conn, err := grpc.NewClient(r.Scheme()+":///ingest", append(dialOptions(1<<10), grpc.WithResolvers(r))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := grpc_health_v1.NewHealthClient(conn)

	watch, err := client.Watch(ctx, &grpc_health_v1.HealthCheckRequest{Service: "db"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatal(err)
	}
	before := resolved.Load()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end) && resolved.Load() == before; time.Sleep(50 * time.Millisecond) {
		if _, err := client.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "db"}); err != nil {
			t.Fatalf("a call while connections are retired: %v", err)
		}
	}
	if resolved.Load() == before {
		t.Fatal("the client never resolved the service again")
	}
	// The watch opened on the first connection outlives that connection's age.
	ended := make(chan error, 1)
	go func() {
		_, err := watch.Recv()
		ended <- err
	}()
	select {
	case err := <-ended:
		t.Errorf("the watch ended with its connection's age: %v", err)
	case <-time.After(time.Second):
	}
}
