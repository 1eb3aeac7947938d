package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"

	"github.com/spackmon/spackmon/gateway"
	"github.com/spackmon/spackmon/gateway/ui"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/server"
	"github.com/spackmon/spackmon/pkg/telemetry"
	"github.com/spackmon/spackmon/pkg/version"
)

// runGateway serves the HTTP edge in front of the gRPC services.
func runGateway(ctx context.Context, args []string) error {
	var cfg gatewayConfig
	b, err := bootRole(ctx, "gateway", &cfg, &cfg.Log, &cfg.Process, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP address")
	})
	if err != nil {
		return err
	}
	defer b.close()
	lis, err := b.listen("http", cfg.Addr)
	if err != nil {
		return err
	}
	auth, err := cfg.Auth.WithDefaults(lis.Addr().String())
	if err != nil {
		return err
	}
	if cfg.Challenge, err = gatewayChallenge(auth); err != nil {
		return err
	}
	if err := cfg.GatewayTrust.Validate(); err != nil {
		return err
	}
	if err := checkNoAuthRole(cfg.AuthAddr, auth); err != nil {
		return err
	}
	if err := cfg.HTTPEdge.validate(auth, cfg.Limits); err != nil {
		return err
	}
	if err := cfg.WebLogin.Validate(); err != nil {
		return err
	}
	b.log.Info("gateway serving", "version", version.String(), "http", "http://"+lis.Addr().String(),
		"ingest", cfg.IngestAddr, "auth", cfg.AuthAddr, "analysis", cfg.AnalysisAddr)
	warnLoopbackPublicURL(b.log, lis.Addr().String(), auth.PublicURL)
	addrs := backendAddrs{ingest: cfg.IngestAddr, auth: cfg.AuthAddr, analysis: cfg.AnalysisAddr}
	cutoff, cancel := b.gracePeriod(ctx)
	defer cancel()
	return serveUntilStopped(ctx, b.log, "gateway", func(ctx context.Context) error {
		return serveGateway(ctx, cutoff, b.log, cfg.HTTPEdge, auth, cfg.Limits, b.tel.Metrics, addrs, lis)
	})
}

// noAuthRole is the auth address of a gateway with no auth service: the realm is external.
const noAuthRole = "none"

// checkNoAuthRole refuses a gateway with no auth service in front of its own realm, whose
// tokens nothing would then issue.
func checkNoAuthRole(authAddr string, auth config.Auth) error {
	if authAddr == noAuthRole && auth.AuthServer == auth.PublicURL+"/auth/token/" {
		return fmt.Errorf("configuration: %s_AUTH_ADDR=%s needs an external realm: set %s_AUTH_SERVER and %s_JWKS_URL to it", config.Prefix, noAuthRole, config.Prefix, config.Prefix)
	}
	return nil
}

// backendAddrs are the gRPC addresses the gateway dials.
type backendAddrs struct {
	ingest, auth, analysis string
	// inProcess, when set, serves the addresses equal to its own in this process.
	inProcess *server.InProcess
}

// gatewaySettings is the gateway's configuration from the process's.
func gatewaySettings(cfg HTTPEdge, auth config.Auth, limits config.Limits, metrics http.Handler) gateway.Config {
	return gateway.Config{
		APIPrefix: cfg.APIPrefix, MaxBodyBytes: limits.MaxBodyBytes, InflightBodyBytes: limits.InflightBodyBytes, InflightWait: limits.InflightWait, Environment: cfg.Environment, Metrics: metrics,
		Challenge: cfg.Challenge, GatewaySecret: cfg.GatewaySecret,
		Pages: ui.Options{Login: ui.LoginOptions{WebLogin: cfg.WebLogin, PublicURL: auth.PublicURL,
			PrivateReads: auth.PrivateReads, GatewaySecret: cfg.GatewaySecret}},
	}
}

// serveGateway serves the gateway on lis until ctx ends, then drains: readiness fails, no new
// connection is taken, and the requests in flight finish until cutoff ends, which cuts them.
func serveGateway(ctx, cutoff context.Context, log *slog.Logger, cfg HTTPEdge, auth config.Auth, limits config.Limits, metrics http.Handler, addrs backendAddrs, lis net.Listener) error {
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
		var c *grpc.ClientConn
		var err error
		if addrs.inProcess != nil && addr == addrs.inProcess.Addr().String() {
			c, err = server.DialInProcess(addrs.inProcess, limits.MaxBodyBytes)
		} else {
			c, err = server.Dial(addr, limits.MaxBodyBytes)
		}
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
		if d.addr == noAuthRole {
			continue
		}
		c, err := dial(d.addr)
		if err != nil {
			return err
		}
		*d.conn = c
	}
	gw, err := gateway.New(ctx, gatewaySettings(cfg, auth, limits, metrics), log, b)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: otelhttp.NewHandler(telemetry.HTTPMetrics(gw), "gateway"),
		// net/http times a new connection's first header from the accept, not from its
		// first byte as it does on a kept-alive connection. A client that opens connections
		// ahead of its requests (Go's transport does when it is busy) must find one unused
		// for as long as an idle one still open: cut after 10 s, its next POST was lost to a
		// reset. A slow client gains nothing it could not already get by staying idle.
		ReadHeaderTimeout: cfg.IdleTimeout,
		// The gateway bounds bodies itself (no ReadTimeout): each piece of one, and the whole.
		IdleTimeout: cfg.IdleTimeout,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	gw.Drain()
	if err := srv.Shutdown(cutoff); err != nil {
		// The grace period is over: what is still running is cut, as configured.
		log.Warn("gateway stopping: requests still in flight at the end of the shutdown timeout are cut", "error", err)
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
