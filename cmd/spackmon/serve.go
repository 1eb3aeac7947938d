package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/server"
	"github.com/spackmon/spackmon/pkg/version"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	analysisservice "github.com/spackmon/spackmon/services/analysis/service"
	authservice "github.com/spackmon/spackmon/services/auth/service"
	authstore "github.com/spackmon/spackmon/services/auth/store"
	ingestservice "github.com/spackmon/spackmon/services/ingest/service"
)

// runServe runs every role in one process.
func runServe(ctx context.Context, args []string) error {
	var cfg serveConfig
	b, err := bootRole(ctx, "serve", &cfg, &cfg.Log, &cfg.Process, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP address")
		fs.StringVar(&cfg.GRPCAddr, "grpc-addr", cfg.GRPCAddr, "gRPC address")
		fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "SQLite data directory")
	})
	if err != nil {
		return err
	}
	defer b.close()
	grpcLis, err := b.listen("grpc", cfg.GRPCAddr)
	if err != nil {
		return err
	}
	httpLis, err := b.listen("http", cfg.Addr)
	if err != nil {
		return err
	}
	return serveOn(ctx, cfg, b.log, b.tel.Metrics, httpLis, grpcLis)
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
	if err := cfg.HTTPEdge.validate(auth, cfg.Limits); err != nil {
		return err
	}
	if err := cfg.WebLogin.Validate(); err != nil {
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
	// ingest's rules to the caller exactly as a separate deployment does; it and the gateway
	// call the services through the same gRPC server as outside callers, in process.
	inProcess := server.NewInProcess()
	defer inProcess.Close()
	self, err := server.DialInProcess(inProcess, cfg.MaxBodyBytes)
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
	guard, err := newGuard(ctx, auth, log, cfg.Clock, ingestservice.Methods, ingestservice.FailureMethods, authservice.Methods, analysisservice.Methods)
	if err != nil {
		return err
	}
	guard.GatewaySecret = cfg.GatewaySecret
	s := grpcServer(ctx, cfg.Limits, guard, map[string]server.Check{
		ingestv1.IngestService_ServiceDesc.ServiceName:     ingestSt.Ping,
		ingestv1.FailureService_ServiceDesc.ServiceName:    ingestSt.Ping,
		authv1.AuthService_ServiceDesc.ServiceName:         authSt.Ping,
		analysisv1.AnalysisService_ServiceDesc.ServiceName: analysisSt.Ping,
	})
	if err := registerIngest(ctx, s, ingestSt, cfg.Watch, cfg.MaxBodyBytes, log, ingestservice.WithOpenCDashProjects(cfg.OpenProjects),
		ingestservice.WithReadBudget(cfg.InflightReadBytes, cfg.InflightWait)); err != nil {
		return err
	}
	analysisSvc := analysisservice.New(analysisSt, ingestv1.NewIngestServiceClient(self))
	analysisv1.RegisterAnalysisServiceServer(s, analysisSvc)
	analysisv1.RegisterSpliceServiceServer(s, analysisservice.NewSplice(analysisSvc))
	authv1.RegisterAuthServiceServer(s, authservice.New(authSt, keys, authServiceConfig(auth, cfg.Realm, cfg.GatewayTrust, cfg.Clock), log))
	if err := guard.CheckServices(s.GetServiceInfo()); err != nil {
		return err
	}
	log.Info("spackmon serving", "version", version.String(), "http", "http://"+httpAddr,
		"grpc", grpcLis.Addr().String(), "store", storeName(cfg.Database), "public_url", auth.PublicURL, "auth", authMode(auth))
	warnLoopbackPublicURL(log, httpAddr, auth.PublicURL)
	hintFirstUser(ctx, log, authSt, cfg.Database, auth)
	selfAddr := inProcess.Addr().String()
	cutoff, cancelCutoff := server.GracePeriod(ctx, cfg.Shutdown())
	defer cancelCutoff()
	// The gateway's requests in flight call the services of this process: those stop only
	// once the gateway has finished them (or failed).
	grpcCtx, stopGRPC := context.WithCancel(context.WithoutCancel(ctx))
	defer stopGRPC()
	return serveUntilStopped(ctx, log, "spackmon",
		func(context.Context) error {
			// Stopping s closes both listeners, which ends this Serve.
			go func() { _ = s.Serve(inProcess) }()
			return server.ServeGraceful(grpcCtx, cutoff, s, grpcLis)
		},
		func(ctx context.Context) error {
			defer stopGRPC()
			return serveGateway(ctx, cutoff, log, cfg.HTTPEdge, auth, cfg.Limits, metrics, backendAddrs{ingest: selfAddr, auth: selfAddr, analysis: selfAddr, inProcess: inProcess}, httpLis)
		})
}

// hintFirstUser tells a new user how to get credentials when there are none yet.
func hintFirstUser(ctx context.Context, log *slog.Logger, st authstore.Store, d config.Database, a config.Auth) {
	if a.DisableAuth {
		return
	}
	users, err := st.ListUsers(ctx)
	if err != nil || len(users) > 0 {
		return
	}
	where := "--data-dir " + d.DataDir
	if d.URL != "" {
		where = "with this SPACKMON_DATABASE_URL"
	}
	log.Info("no users yet: create one, then point Spack at this server",
		"create", selfCommand()+" user add NAME "+where,
		"export", "SPACKMON_USER=NAME SPACKMON_TOKEN=<the token it prints>",
		"spack", "spack install --monitor --monitor-host "+a.PublicURL+" PACKAGE")
}

// selfCommand is how the user ran this binary (./bin/spackmon after make build), so that a
// hint can be pasted as it is.
func selfCommand() string {
	if len(os.Args) == 0 || os.Args[0] == "" {
		return "spackmon"
	}
	return os.Args[0]
}

// newGatewaySecret is the secret of a process that runs the gateway and the auth service
// both: no one else needs to know it.
func newGatewaySecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
