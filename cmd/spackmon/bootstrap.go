package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/server"
	"github.com/spackmon/spackmon/pkg/telemetry"
	"github.com/spackmon/spackmon/pkg/version"
)

// bootstrap is what every serving role starts with: its logger, its telemetry and its
// listeners. main ends the context on SIGINT or SIGTERM; serveUntilStopped then lets the
// requests in flight finish.
type bootstrap struct {
	role string
	log  *slog.Logger
	tel  *telemetry.Telemetry
	proc config.Process
	// listeners are closed by close when the role fails before serving them.
	listeners []net.Listener
}

// bootRole loads the configuration of role into cfg (flags adds its flags; log and proc are
// cfg's log and process settings) and boots the role.
func bootRole(ctx context.Context, role string, cfg any, log *config.Log, proc *config.Process, args []string, flags func(*flag.FlagSet)) (*bootstrap, error) {
	if err := load(role, cfg, args, flags); err != nil {
		return nil, err
	}
	if d, ok := cfg.(interface{ DefaultMemoryLimit() int64 }); ok && proc.MemoryLimit == 0 {
		proc.MemoryLimit = d.DefaultMemoryLimit()
	}
	return boot(ctx, role, *log, *proc)
}

// boot makes role's logger and telemetry, and serves pprof when asked; close undoes it.
func boot(ctx context.Context, role string, lc config.Log, proc config.Process) (*bootstrap, error) {
	tel, err := telemetry.Setup(ctx, role)
	if err != nil {
		return nil, err
	}
	b := &bootstrap{role: role, log: newLogger(lc), tel: tel, proc: proc}
	setMemoryLimit(proc.MemoryLimit)
	if proc.PprofAddr != "" {
		if err := b.servePprof(ctx, proc.PprofAddr); err != nil {
			b.close()
			return nil, err
		}
	}
	return b, nil
}

// setMemoryLimit sets the runtime's soft memory limit, unless GOMEMLIMIT has set it already.
// Under it the collector runs more often, never past half the CPU (the runtime's cap), so
// that a live heap above it costs CPU rather than failing.
func setMemoryLimit(limit int64) {
	if limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}

// gracePeriod is the context that ends when the role, told to stop by the end of ctx, has
// given its requests in flight all the time it may.
func (b *bootstrap) gracePeriod(ctx context.Context) (context.Context, context.CancelFunc) {
	return server.GracePeriod(ctx, b.proc.Shutdown())
}

// close shuts the telemetry down and closes the listeners, which are closed already when
// they were served.
func (b *bootstrap) close() {
	for _, lis := range b.listeners {
		lis.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.tel.Shutdown(ctx)
}

// listen is the role's listener named name ("http", "grpc", "metrics"): the socket of that
// name the process was handed (socket activation), or else a new one on addr.
func (b *bootstrap) listen(name, addr string) (net.Listener, error) {
	handed, err := handedListeners()
	if err != nil {
		return nil, err
	}
	lis, ok := handed[name]
	if !ok {
		if lis, err = net.Listen("tcp", addr); err != nil {
			return nil, err
		}
	}
	b.listeners = append(b.listeners, lis)
	return lis, nil
}

// handedListeners are the sockets the process was started with, by name, as systemd's socket
// activation hands them over (LISTEN_FDS sockets from descriptor 3, named by LISTEN_FDNAMES),
// so that whoever starts the process, a supervisor or a test, opens the sockets and knows
// their addresses before it runs, and no other process can take them in between.
var handedListeners = sync.OnceValues(func() (map[string]net.Listener, error) {
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return nil, nil
	}
	if pid := os.Getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return nil, nil // handed to another process, which started this one
	}
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	handed := make(map[string]net.Listener, n)
	for i := range n {
		name := fmt.Sprintf("fd%d", 3+i)
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		f := os.NewFile(uintptr(3+i), name)
		lis, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("socket %s handed to the process: %w", name, err)
		}
		handed[name] = lis
	}
	for _, v := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	return handed, nil
})

// serveUntilStopped runs a role's servers until ctx ends (a signal) or one of them fails,
// then waits for the requests in flight, and logs the stop.
func serveUntilStopped(parent context.Context, log *slog.Logger, role string, servers ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(parent)
	for _, serve := range servers {
		g.Go(func() error { return serve(ctx) })
	}
	stopped, logged := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(logged)
		select {
		case <-ctx.Done():
		case <-stopped:
			// The servers may finish before this goroutine first runs: a signal still
			// gets its line, before the one that says the role stopped.
			if parent.Err() == nil {
				return
			}
		}
		log.Info(role+" stopping: finishing the requests in flight", "reason", context.Cause(ctx).Error())
	}()
	err := g.Wait()
	close(stopped)
	<-logged
	if err != nil {
		log.Error(role+" stopped", "error", err)
		return err
	}
	log.Info(role + " stopped")
	return nil
}

// serveService serves s, the gRPC server of one service role, on its "grpc" listener, with
// /metrics on its own listener when one is configured, until ctx ends. It refuses to start
// when the guard lacks a requirement for a method registered on s.
func (b *bootstrap) serveService(ctx context.Context, grpcAddr string, tc config.Telemetry, s *grpc.Server, guard *authn.Guard, attrs ...any) error {
	if err := guard.CheckServices(s.GetServiceInfo()); err != nil {
		return err
	}
	lis, err := b.listen("grpc", grpcAddr)
	if err != nil {
		return err
	}
	cutoff, cancel := b.gracePeriod(ctx)
	defer cancel()
	servers := []func(context.Context) error{func(ctx context.Context) error { return server.ServeGraceful(ctx, cutoff, s, lis) }}
	if tc.MetricsAddr != "" {
		mlis, err := b.listen("metrics", tc.MetricsAddr)
		if err != nil {
			return err
		}
		attrs = append(attrs, "metrics", "http://"+mlis.Addr().String()+"/metrics")
		servers = append(servers, func(ctx context.Context) error { return serveMetrics(ctx, b.tel.Metrics, mlis) })
	}
	b.log.Info(b.role+" serving", append([]any{"version", version.String(), "grpc", lis.Addr().String()}, attrs...)...)
	return serveUntilStopped(ctx, b.log, b.role, servers...)
}

// serveMetrics serves /metrics on lis until ctx ends.
func serveMetrics(ctx context.Context, metrics http.Handler, lis net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return serveSide(ctx, mux, lis)
}

// serveSide serves h, an operator's side port (metrics, profiles), on lis until ctx ends.
func serveSide(ctx context.Context, h http.Handler, lis net.Listener) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// grpcServer is a gRPC server guarded by guard, with a health check per service, run until
// ctx ends.
func grpcServer(ctx context.Context, limits config.Limits, guard *authn.Guard, checks map[string]server.Check) *grpc.Server {
	return server.NewGRPC(ctx, server.GRPCOptions{
		MaxPayloadBytes: limits.MaxBodyBytes,
		Unary:           []grpc.UnaryServerInterceptor{guard.Unary()},
		Stream:          []grpc.StreamServerInterceptor{guard.Stream()},
		Log:             guard.Log,
	}, checks)
}

// newLogger is the role's structured log on standard error, with trace ids.
func newLogger(c config.Log) *slog.Logger {
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.Level(c.Level)})))
}
