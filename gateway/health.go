package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// retryWatch bounds the wait before a broken health watch is opened again when the
// connection's state does not change first.
const retryWatch = time.Second

// backendHealth follows whether one backing service serves, from its health Watch stream
// and its connection's state, so that service info answers from what is known at once
// instead of asking on a request's time (a busy backend would then look down).
type backendHealth struct {
	service string
	conn    *grpc.ClientConn
	client  grpc_health_v1.HealthClient
	log     *slog.Logger

	serving atomic.Bool
	// known is closed at the first verdict, serving or not.
	known     chan struct{}
	knownOnce sync.Once
}

func newBackendHealth(service string, conn *grpc.ClientConn, log *slog.Logger) *backendHealth {
	return &backendHealth{service: service, conn: conn, client: grpc_health_v1.NewHealthClient(conn), log: log, known: make(chan struct{})}
}

// set records a verdict and logs a change; why is the cause of a loss of service.
func (b *backendHealth) set(serving bool, why error) {
	was := b.serving.Swap(serving)
	first := false
	b.knownOnce.Do(func() { first = true; close(b.known) })
	switch {
	case serving && (!was || first):
		b.log.Info("backend serving", "service", b.service, "target", b.conn.Target())
	case !serving && (was || first):
		b.log.Warn("backend not serving", "service", b.service, "target", b.conn.Target(), "state", b.conn.GetState().String(), "error", why)
	}
}

// watch follows the service until ctx ends.
func (b *backendHealth) watch(ctx context.Context) {
	for ctx.Err() == nil {
		err := b.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		b.set(false, err)
		b.awaitChange(ctx)
	}
}

// follow reads the service's health stream until it breaks, which it does at once when the
// backend's process or connection goes away.
func (b *backendHealth) follow(ctx context.Context) error {
	stream, err := b.client.Watch(ctx, &grpc_health_v1.HealthCheckRequest{Service: b.service})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			// The gateway is stopping, and with it, in serve, the services: the message
			// read after that is no news.
			return ctx.Err()
		}
		serving := resp.GetStatus() == grpc_health_v1.HealthCheckResponse_SERVING
		b.set(serving, fmt.Errorf("it reports %s; its own log says why", resp.GetStatus()))
	}
}

// awaitChange waits until the connection's state changes or retryWatch passes, asking the
// connection to reconnect if it idles. The next Watch then waits out a connection attempt.
func (b *backendHealth) awaitChange(ctx context.Context) {
	state := b.conn.GetState()
	if state == connectivity.Idle {
		b.conn.Connect()
	}
	ctx, cancel := context.WithTimeout(ctx, retryWatch)
	defer cancel()
	b.conn.WaitForStateChange(ctx, state)
}

// firstVerdictWait bounds how long service info waits, right after start, for backends not
// heard from yet.
const firstVerdictWait = 2 * time.Second

// backendsServing reports whether every backing service serves: a Spack run that starts
// against a server whose realm or analysis service is down fails halfway.
func (g *Gateway) backendsServing(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, firstVerdictWait)
	defer cancel()
	for _, b := range g.backends {
		select {
		case <-b.known:
		case <-ctx.Done():
			return false
		}
		if !b.serving.Load() {
			return false
		}
	}
	return true
}

// probes answer the orchestrator's questions on the gateway's own port: /healthz whether
// the process serves HTTP at all (restart it when not), /readyz whether it should be sent
// requests (its backends serve and it is not stopping).
var probes = map[string]func(*Gateway, http.ResponseWriter, *http.Request){
	"/healthz": func(_ *Gateway, w http.ResponseWriter, _ *http.Request) { writeProbe(w, true, "serving") },
	"/readyz": func(g *Gateway, w http.ResponseWriter, r *http.Request) {
		switch {
		case g.draining.Load():
			writeProbe(w, false, "stopping")
		case !g.backendsServing(r.Context()):
			writeProbe(w, false, "a backing service does not serve")
		default:
			writeProbe(w, true, "ready")
		}
	},
}

func writeProbe(w http.ResponseWriter, ok bool, why string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, why)
}

// Drain makes /readyz fail from now on: the process is stopping and finishes what it has;
// the event streams end, and their clients resume on another replica.
func (g *Gateway) Drain() {
	g.draining.Store(true)
	g.endStreams()
}
