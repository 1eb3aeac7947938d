// Package server starts spackmon's gRPC servers and clients the same way in every role:
// OpenTelemetry stats handlers, health, reflection, and message sizes that fit the largest
// request body the gateway accepts.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/reflection"

	"github.com/spackmon/spackmon/pkg/telemetry"
)

// messageOverhead is room for the fields around the largest payload (a phase log).
const messageOverhead = 1 << 20

// Clients ping a connection that has calls open (the gateway's health watches always do)
// every keepaliveTime, so that a backend lost without a word (a node gone, a partition)
// breaks the watch within keepaliveTime+keepaliveTimeout instead of never. Servers allow
// pings that often.
const (
	keepaliveTime    = 20 * time.Second
	keepaliveTimeout = 5 * time.Second
)

// maxConnectionAge is how long a server keeps a client's connection before asking it to
// open another (a GOAWAY). gRPC resolves a service's name only when a connection ends, so
// without it callers never learned of replicas added after they connected (a Kubernetes
// autoscaler's, behind a headless service) and kept sending every call to the first ones.
// No grace is set: calls in flight on the old connection, such as a long upload or a build
// watch, run to their end there. A variable for the tests.
var maxConnectionAge = 5 * time.Minute

// init replaces the buffer pool gRPC encodes and decodes messages with, in every client and
// server of the process (the proto codec takes no other). gRPC's default pool has no size
// between 32 KiB and 1 MiB: a spec DAG of 150 KiB took a 1 MiB buffer on each side of a
// call, for as long as the call waited to be written and read, and under 64 clients those
// were most of serve's heap. A tier at every power of two wastes at most half a buffer.
func init() {
	exponents := make([]uint8, 0, 24)
	for e := uint8(8); e <= 24; e++ {
		exponents = append(exponents, e)
	}
	p, err := mem.NewBinaryTieredBufferPool(exponents...)
	if err != nil {
		panic(err) // only for exponents past the machine's word size
	}
	experimental.SetDefaultBufferPool(p)
}

// GRPCOptions shape a gRPC server.
type GRPCOptions struct {
	// MaxPayloadBytes is the largest payload a request may carry.
	MaxPayloadBytes int64
	Unary           []grpc.UnaryServerInterceptor
	Stream          []grpc.StreamServerInterceptor
	// Log gets the calls that fail by no fault of the caller's, with their causes, the
	// calls callers give up on, and the health checks that fail.
	Log *slog.Logger
}

// NewGRPC returns a server with health (answered by checks, run in the background until ctx
// ends) and reflection registered.
func NewGRPC(ctx context.Context, opts GRPCOptions, checks map[string]Check) *grpc.Server {
	size := int(opts.MaxPayloadBytes + messageOverhead)
	s := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.MaxRecvMsgSize(size),
		grpc.MaxSendMsgSize(size),
		grpc.ChainUnaryInterceptor(append([]grpc.UnaryServerInterceptor{telemetry.UnaryServerMetrics(), logFailures(opts.Log)}, opts.Unary...)...),
		grpc.ChainStreamInterceptor(append([]grpc.StreamServerInterceptor{telemetry.StreamServerMetrics(), logStreamFailures(opts.Log, ctx)}, opts.Stream...)...),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: maxConnectionAge}),
	)
	grpc_health_v1.RegisterHealthServer(s, newHealth(ctx, checks, opts.Log))
	reflection.Register(s)
	return s
}

// Dial connects to a spackmon gRPC service. The connection is lazy: an unreachable
// service shows up as Unavailable on the first call, not here. Calls are spread
// round-robin over every address the name resolves to (a headless Kubernetes service).
func Dial(addr string, maxPayloadBytes int64) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, dialOptions(maxPayloadBytes)...)
}

// dialOptions are the options of every client connection, over the network or in process.
func dialOptions(maxPayloadBytes int64) []grpc.DialOption {
	size := int(maxPayloadBytes + messageOverhead)
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(size), grpc.MaxCallSendMsgSize(size)),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin": {}}]}`),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		// A service that starts after its callers (or restarts) is reached within seconds,
		// not after gRPC's default back-off of up to two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second,
		}}),
	}
}

// Serve runs s on lis until ctx ends, then stops it gracefully within ten seconds.
func Serve(ctx context.Context, s *grpc.Server, lis net.Listener) error {
	cutoff, cancel := GracePeriod(ctx, 10*time.Second)
	defer cancel()
	return ServeGraceful(ctx, cutoff, s, lis)
}

// ServeGraceful runs s on lis until ctx ends, then stops it gracefully: it takes no new
// calls and lets the calls in flight finish, until cutoff ends, when it cuts the ones left.
func ServeGraceful(ctx, cutoff context.Context, s *grpc.Server, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { s.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-cutoff.Done():
		s.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// GracePeriod returns a context that ends grace after ctx ends (or when cancel is called):
// the time a stopping server gives the requests in flight.
func GracePeriod(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	cutoff, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var timer *time.Timer
	var mu sync.Mutex
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace, cancel)
	})
	return cutoff, func() {
		stop()
		mu.Lock()
		defer mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
		cancel()
	}
}

// Check tells whether a service can do its work (typically: its database answers).
type Check func(ctx context.Context) error
