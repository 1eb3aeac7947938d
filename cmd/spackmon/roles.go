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
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/service"
	"github.com/spackmon/spackmon/services/ingest/store"
)

func runVersion(context.Context, []string) error {
	fmt.Println(version.String())
	return nil
}

func runServe(ctx context.Context, args []string) error {
	var cfg serveConfig
	if err := load(&cfg, args, func(fs *flag.FlagSet) {
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
func serveOn(ctx context.Context, cfg serveConfig, log *slog.Logger, metrics http.Handler, httpLis, grpcLis net.Listener) error {
	st, err := openIngestStore(ctx, cfg.Database, true)
	if err != nil {
		httpLis.Close()
		grpcLis.Close()
		return err
	}
	defer st.Close()
	log.Info("spackmon serving", "version", version.String(), "http", "http://"+httpLis.Addr().String(),
		"grpc", grpcLis.Addr().String(), "store", storeName(cfg.Database))
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Serve(ctx, ingestServer(st, cfg.Limits), grpcLis) })
	g.Go(func() error {
		return serveGateway(ctx, log, cfg.HTTPEdge, cfg.Limits, metrics, grpcLis.Addr().String(), httpLis)
	})
	return g.Wait()
}

func runIngest(ctx context.Context, args []string) error {
	var cfg ingestConfig
	if err := load(&cfg, args, nil); err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	st, err := openIngestStore(ctx, cfg.Database, cfg.URL == "")
	if err != nil {
		return err
	}
	defer st.Close()
	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "ingest")
	if err != nil {
		return err
	}
	defer shutdownTelemetry(tel)
	log.Info("ingest serving", "version", version.String(), "grpc", lis.Addr().String(), "store", storeName(cfg.Database))
	return server.Serve(ctx, ingestServer(st, cfg.Limits), lis)
}

func runGateway(ctx context.Context, args []string) error {
	var cfg gatewayConfig
	if err := load(&cfg, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP address")
	}); err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "gateway")
	if err != nil {
		return err
	}
	defer shutdownTelemetry(tel)
	log.Info("gateway serving", "version", version.String(), "http", "http://"+lis.Addr().String(), "ingest", cfg.IngestAddr)
	return serveGateway(ctx, log, cfg.HTTPEdge, cfg.Limits, tel.Metrics, cfg.IngestAddr, lis)
}

func ingestServer(st store.Store, limits config.Limits) *grpc.Server {
	s := server.NewGRPC(server.GRPCOptions{
		MaxPayloadBytes: limits.MaxBodyBytes,
		Unary:           []grpc.UnaryServerInterceptor{authn.AnonymousUnary()},
		Stream:          []grpc.StreamServerInterceptor{authn.AnonymousStream()},
	}, map[string]server.Check{ingestv1.IngestService_ServiceDesc.ServiceName: st.Ping})
	ingestv1.RegisterIngestServiceServer(s, service.New(st))
	return s
}

func serveGateway(ctx context.Context, log *slog.Logger, cfg HTTPEdge, limits config.Limits, metrics http.Handler, ingestAddr string, lis net.Listener) error {
	conn, err := server.Dial(ingestAddr, limits.MaxBodyBytes)
	if err != nil {
		return err
	}
	defer conn.Close()
	gw, err := gateway.New(ctx, gateway.Config{
		APIPrefix: cfg.APIPrefix, MaxBodyBytes: limits.MaxBodyBytes, Environment: cfg.Environment, Metrics: metrics,
	}, log, conn)
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
