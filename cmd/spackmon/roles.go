package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/spackmon/spackmon/gateway"
	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/server"
	"github.com/spackmon/spackmon/pkg/telemetry"
	"github.com/spackmon/spackmon/pkg/version"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	analysisservice "github.com/spackmon/spackmon/services/analysis/service"
	authservice "github.com/spackmon/spackmon/services/auth/service"
	ingestservice "github.com/spackmon/spackmon/services/ingest/service"
)

func runVersion(context.Context, []string) error {
	fmt.Println(version.String())
	return nil
}

func runServe(ctx context.Context, args []string) error {
	var cfg serveConfig
	if err := load("serve", &cfg, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP address")
		fs.StringVar(&cfg.GRPCAddr, "grpc-addr", cfg.GRPCAddr, "gRPC address")
		fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "SQLite data directory")
	}); err != nil {
		return err
	}
	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return err
	}
	httpLis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		grpcLis.Close()
		return err
	}
	tel, err := telemetry.Setup(ctx, "serve")
	if err != nil {
		return err
	}
	defer shutdownTelemetry(tel)
	return serveOn(ctx, cfg, newLogger(cfg.Log), tel.Metrics, httpLis, grpcLis)
}

func shutdownTelemetry(tel *telemetry.Telemetry) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tel.Shutdown(ctx)
}

// serveOn runs every role in this process on the given listeners until ctx ends.
func serveOn(ctx context.Context, cfg serveConfig, log *slog.Logger, metrics http.Handler, httpLis, grpcLis net.Listener) (err error) {
	defer func() {
		if err != nil {
			httpLis.Close()
			grpcLis.Close()
		}
	}()
	httpAddr := httpLis.Addr().String()
	if cfg.JWKSURL == "" {
		// Its own listener, not the public URL: a proxy in front need not be reachable.
		cfg.JWKSURL = "http://" + config.Reachable(httpAddr) + "/.well-known/jwks.json"
	}
	auth, err := cfg.Auth.WithDefaults(httpAddr)
	if err != nil {
		return err
	}
	if cfg.Challenge, err = gatewayChallenge(auth); err != nil {
		return err
	}
	if err := cfg.GatewayTrust.Validate(); err != nil {
		return err
	}
	if cfg.GatewaySecret == "" {
		if cfg.GatewaySecret, err = newGatewaySecret(); err != nil {
			return err
		}
	}
	ingestSt, err := openIngestStore(ctx, cfg.Database, true)
	if err != nil {
		return err
	}
	defer ingestSt.Close()
	authSt, err := openAuthStore(ctx, cfg.Database, true)
	if err != nil {
		return err
	}
	defer authSt.Close()
	analysisSt, err := openAnalysisStore(ctx, cfg.Database, true)
	if err != nil {
		return err
	}
	defer analysisSt.Close()
	if n, err := adoptOwners(ctx, authSt, ingestSt); err != nil {
		return err
	} else if n > 0 {
		log.Info("builds owned by a user name are now owned by that user's id", "builds", n)
	}
	// Analysis asks ingest about builds over gRPC even in one process, so that it applies
	// ingest's rules to the caller exactly as a separate deployment does.
	self, err := server.Dial(grpcLis.Addr().String(), cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	defer self.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys, err := realmKeys(ctx, cfg.Realm, cfg.Database, log)
	if err != nil {
		return err
	}
	guard, err := newGuard(ctx, auth, log, cfg.Clock, ingestservice.Methods, authservice.Methods, analysisservice.Methods)
	if err != nil {
		return err
	}
	s := grpcServer(ctx, cfg.Limits, guard, map[string]server.Check{
		ingestv1.IngestService_ServiceDesc.ServiceName:     ingestSt.Ping,
		authv1.AuthService_ServiceDesc.ServiceName:         authSt.Ping,
		analysisv1.AnalysisService_ServiceDesc.ServiceName: analysisSt.Ping,
	})
	ingestv1.RegisterIngestServiceServer(s, ingestservice.New(ingestSt, ingestservice.WithOpenCDashProjects(cfg.OpenProjects)))
	analysisv1.RegisterAnalysisServiceServer(s, analysisservice.New(analysisSt, ingestv1.NewIngestServiceClient(self)))
	authv1.RegisterAuthServiceServer(s, authservice.New(authSt, keys, authServiceConfig(auth, cfg.GatewayTrust, cfg.Clock), log))
	if err := guard.CheckServices(s.GetServiceInfo()); err != nil {
		return err
	}
	log.Info("spackmon serving", "version", version.String(), "http", "http://"+httpAddr,
		"grpc", grpcLis.Addr().String(), "store", storeName(cfg.Database), "public_url", auth.PublicURL, "auth", authMode(auth))
	hintFirstUser(ctx, log, authSt, cfg.Database, auth)
	grpcAddr := grpcLis.Addr().String()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Serve(ctx, s, grpcLis) })
	g.Go(func() error {
		return serveGateway(ctx, log, cfg.HTTPEdge, cfg.Limits, metrics, backendAddrs{ingest: grpcAddr, auth: grpcAddr, analysis: grpcAddr}, httpLis)
	})
	return waitStopped(ctx, log, "spackmon", g)
}

// waitStopped waits for a role's servers and logs its stop: when the context ends (a signal,
// or one server failing), then once the requests in flight are done.
func waitStopped(ctx context.Context, log *slog.Logger, role string, g *errgroup.Group) error {
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			log.Info(role+" stopping: finishing the requests in flight", "reason", context.Cause(ctx).Error())
		case <-stopped:
		}
	}()
	err := g.Wait()
	close(stopped)
	if err != nil {
		log.Error(role+" stopped", "error", err)
		return err
	}
	log.Info(role + " stopped")
	return nil
}

func runIngest(ctx context.Context, args []string) error {
	var cfg ingestConfig
	if err := load("ingest", &cfg, args, nil); err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	auth, guard, err := roleGuard(ctx, cfg.Auth, log, ingestservice.Methods)
	if err != nil {
		return err
	}
	st, err := openIngestStore(ctx, cfg.Database, cfg.URL == "")
	if err != nil {
		return err
	}
	defer st.Close()
	s := grpcServer(ctx, cfg.Limits, guard, map[string]server.Check{ingestv1.IngestService_ServiceDesc.ServiceName: st.Ping})
	ingestv1.RegisterIngestServiceServer(s, ingestservice.New(st, ingestservice.WithOpenCDashProjects(cfg.OpenProjects)))
	return serveRole(ctx, "ingest", log, cfg.GRPCAddr, cfg.Telemetry, s, guard, "store", storeName(cfg.Database), "auth", authMode(auth))
}

func runAnalysis(ctx context.Context, args []string) error {
	var cfg analysisConfig
	if err := load("analysis", &cfg, args, nil); err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	auth, guard, err := roleGuard(ctx, cfg.Auth, log, analysisservice.Methods)
	if err != nil {
		return err
	}
	st, err := openAnalysisStore(ctx, cfg.Database, cfg.URL == "")
	if err != nil {
		return err
	}
	defer st.Close()
	ingest, err := server.Dial(cfg.IngestAddr, cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	defer ingest.Close()
	s := grpcServer(ctx, cfg.Limits, guard, map[string]server.Check{analysisv1.AnalysisService_ServiceDesc.ServiceName: st.Ping})
	analysisv1.RegisterAnalysisServiceServer(s, analysisservice.New(st, ingestv1.NewIngestServiceClient(ingest)))
	return serveRole(ctx, "analysis", log, cfg.GRPCAddr, cfg.Telemetry, s, guard, "store", storeName(cfg.Database),
		"ingest", cfg.IngestAddr, "auth", authMode(auth))
}

func runGateway(ctx context.Context, args []string) error {
	var cfg gatewayConfig
	if err := load("gateway", &cfg, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP address")
	}); err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	auth, err := cfg.Auth.WithDefaults(lis.Addr().String())
	if err == nil {
		cfg.Challenge, err = gatewayChallenge(auth)
	}
	if err == nil {
		err = cfg.GatewayTrust.Validate()
	}
	if err != nil {
		lis.Close()
		return err
	}
	tel, err := telemetry.Setup(ctx, "gateway")
	if err != nil {
		return err
	}
	defer shutdownTelemetry(tel)
	log.Info("gateway serving", "version", version.String(), "http", "http://"+lis.Addr().String(),
		"ingest", cfg.IngestAddr, "auth", cfg.AuthAddr, "analysis", cfg.AnalysisAddr)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return serveGateway(ctx, log, cfg.HTTPEdge, cfg.Limits, tel.Metrics,
			backendAddrs{ingest: cfg.IngestAddr, auth: cfg.AuthAddr, analysis: cfg.AnalysisAddr}, lis)
	})
	return waitStopped(ctx, log, "gateway", g)
}

// roleGuard completes a service role's auth settings and makes its guard over the tables.
func roleGuard(ctx context.Context, a config.Auth, log *slog.Logger, tables ...map[string]authn.Requirement) (config.Auth, *authn.Guard, error) {
	a, err := a.WithDefaults(defaultGatewayAddr)
	if err != nil {
		return a, nil, err
	}
	g, err := newGuard(ctx, a, log, nil, tables...)
	return a, g, err
}

// serveRole serves s, a single service's server, on addr until ctx ends. It refuses to start
// when the guard lacks a requirement for a method registered on s.
func serveRole(ctx context.Context, role string, log *slog.Logger, addr string, tc config.Telemetry, s *grpc.Server, guard *authn.Guard, attrs ...any) error {
	if err := guard.CheckServices(s.GetServiceInfo()); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, role)
	if err != nil {
		lis.Close()
		return err
	}
	defer shutdownTelemetry(tel)
	g, ctx := errgroup.WithContext(ctx)
	if tc.MetricsAddr != "" {
		mlis, err := net.Listen("tcp", tc.MetricsAddr)
		if err != nil {
			lis.Close()
			return err
		}
		attrs = append(attrs, "metrics", "http://"+mlis.Addr().String()+"/metrics")
		g.Go(func() error { return serveMetrics(ctx, tel.Metrics, mlis) })
	}
	log.Info(role+" serving", append([]any{"version", version.String(), "grpc", lis.Addr().String()}, attrs...)...)
	g.Go(func() error { return server.Serve(ctx, s, lis) })
	return waitStopped(ctx, log, role, g)
}

// serveMetrics serves /metrics on lis until ctx ends.
func serveMetrics(ctx context.Context, metrics http.Handler, lis net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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

// backendAddrs are the gRPC addresses the gateway dials.
type backendAddrs struct{ ingest, auth, analysis string }

func serveGateway(ctx context.Context, log *slog.Logger, cfg HTTPEdge, limits config.Limits, metrics http.Handler, addrs backendAddrs, lis net.Listener) error {
	// One connection per address: in one process every service shares a server.
	conns := map[string]*grpc.ClientConn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func(addr string) (*grpc.ClientConn, error) {
		if c, ok := conns[addr]; ok {
			return c, nil
		}
		c, err := server.Dial(addr, limits.MaxBodyBytes)
		if err == nil {
			conns[addr] = c
		}
		return c, err
	}
	var b gateway.Backends
	for _, d := range []struct {
		conn **grpc.ClientConn
		addr string
	}{{&b.Ingest, addrs.ingest}, {&b.Auth, addrs.auth}, {&b.Analysis, addrs.analysis}} {
		c, err := dial(d.addr)
		if err != nil {
			return err
		}
		*d.conn = c
	}
	gw, err := gateway.New(ctx, gateway.Config{
		APIPrefix: cfg.APIPrefix, MaxBodyBytes: limits.MaxBodyBytes, Environment: cfg.Environment, Metrics: metrics,
		Challenge: cfg.Challenge, GatewaySecret: cfg.GatewaySecret,
	}, log, b)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           otelhttp.NewHandler(gw, "gateway"),
		ReadHeaderTimeout: 10 * time.Second,
		// Bounds how long a client may take to send a body (a 256 MiB log on a slow link
		// fits), so connections that trickle bytes cannot pile up.
		ReadTimeout: 10 * time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
