package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spackmon/spackmon/pkg/config"
)

// ingestConfig configures the ingest role.
type ingestConfig struct {
	config.Database
	config.Limits
	config.Log
	config.Process
	config.Telemetry
	config.Auth
	CDash
	Watch
	GRPCAddr string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9090" desc:"address the ingest gRPC service listens on"`
}

// CDash configures what ingest takes from CDash clients.
type CDash struct {
	OpenProjects []string `envconfig:"CDASH_OPEN_PROJECTS" desc:"comma-separated CDash projects that take submissions without a token (owned by anonymous)"`
}

// analysisConfig configures the analysis role.
type analysisConfig struct {
	config.Database
	config.Limits
	config.Log
	config.Process
	config.Telemetry
	config.Auth
	GRPCAddr   string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9092" desc:"address the analysis gRPC service listens on"`
	IngestAddr string `envconfig:"INGEST_ADDR" default:"127.0.0.1:9090" desc:"address of the ingest gRPC service, asked about builds"`
}

// authConfig configures the auth role.
type authConfig struct {
	config.Database
	config.Log
	config.Process
	config.Telemetry
	config.Auth
	config.GatewayTrust
	Realm
	GRPCAddr string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9091" desc:"address the auth gRPC service listens on"`
}

// Realm is what the role that issues tokens needs besides config.Auth.
type Realm struct {
	SigningKeyFile string         `envconfig:"AUTH_SIGNING_KEY_FILE" desc:"PEM signing key (Ed25519 or P-256), re-read when it changes; empty: one generated in the data dir, also with PostgreSQL"`
	TokenTTL       config.Seconds `envconfig:"TOKEN_TTL" default:"600" desc:"lifetime of a realm token, in seconds"`
	WebSessionTTL  config.Seconds `envconfig:"WEB_SESSION_TTL" default:"28800" desc:"lifetime of a web login (the session cookie's token), in seconds"`
}

// gatewayConfig configures the gateway role.
type gatewayConfig struct {
	config.Limits
	config.Log
	config.Process
	config.Auth
	HTTPEdge
	IngestAddr   string `envconfig:"INGEST_ADDR" default:"127.0.0.1:9090" desc:"address of the ingest gRPC service"`
	AuthAddr     string `envconfig:"AUTH_ADDR" default:"127.0.0.1:9091" desc:"address of the auth gRPC service; none: there is none, the realm is external (SPACKMON_AUTH_SERVER elsewhere)"`
	AnalysisAddr string `envconfig:"ANALYSIS_ADDR" default:"127.0.0.1:9092" desc:"address of the analysis gRPC service"`
}

// HTTPEdge is what the gateway and serve share about the HTTP edge.
type HTTPEdge struct {
	config.GatewayTrust
	Addr        string `envconfig:"ADDR" default:"127.0.0.1:8080" desc:"address the HTTP gateway listens on"`
	APIPrefix   string `envconfig:"API_PREFIX" default:"ms1" desc:"path prefix of the Spack Monitor protocol"`
	Environment string `envconfig:"ENVIRONMENT" default:"production" desc:"shown in the service info"`
	// IdleTimeout is how long the gateway keeps a client's connection that carries no
	// request, whether it has carried one before or not.
	IdleTimeout time.Duration `envconfig:"IDLE_TIMEOUT" default:"2m" desc:"how long the gateway keeps a connection that carries no request, and waits for a request's headers (a Go duration); behind a proxy, longer than the proxy keeps its idle connections to the gateway"`
	// Challenge is what the gateway answers a protocol write without a token with, from
	// the auth settings; empty when writes need none.
	Challenge string `ignored:"true"`
	config.WebLogin
}

// validate refuses settings that would leave connections unbounded, and those the gateway
// would refuse once serving.
func (e HTTPEdge) validate(auth config.Auth, limits config.Limits) error {
	if e.IdleTimeout <= 0 {
		return fmt.Errorf("configuration: %s_IDLE_TIMEOUT %v: want a positive duration", config.Prefix, e.IdleTimeout)
	}
	if err := gatewaySettings(e, auth, limits, nil).Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

// serveConfig configures every role in one process.
type serveConfig struct {
	config.Database
	config.Limits
	config.Log
	config.Process
	config.Auth
	Realm
	HTTPEdge
	CDash
	Watch
	GRPCAddr string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9090" desc:"address the gRPC services listen on"`
	// Clock, when set, is the time the realm issues tokens at and the services check them
	// against: a test moves it past a token's lifetime. Nil is the real clock.
	Clock func() time.Time `ignored:"true"`
}

// userConfig configures spackmon user.
type userConfig struct {
	config.Database
	config.Log
}

// migrateConfig configures spackmon migrate.
type migrateConfig struct {
	config.Database
	config.Log
}

func usage(w io.Writer, cfg any) error { return config.Usage(w, cfg) }

// load reads cfg from the environment, then lets flags override it. On -h it prints the
// command's flags and variables and returns flag.ErrHelp, which ends the command with success.
func load(name string, cfg any, args []string, flags func(*flag.FlagSet)) error {
	// Help is given even when the environment holds a bad value.
	loadErr := config.Load(cfg)
	fs := flag.NewFlagSet("spackmon "+name, flag.ContinueOnError)
	if flags != nil {
		flags(fs)
	}
	help := func(w io.Writer) {
		fmt.Fprintf(w, "usage: spackmon %s [flags]\n", name)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nspackmon %s reads:\n", name)
		_ = usage(w, cfg)
	}
	positional, err := parseArgs(fs, args, os.Stdout, help)
	switch {
	case err != nil:
		return err
	case loadErr != nil:
		return loadErr
	case len(positional) > 0:
		return fmt.Errorf("spackmon %s takes no arguments, got %q; 'spackmon %s -h' lists its flags", name, positional[0], name)
	}
	return nil
}

// parseArgs parses flags that may come before or after the positional arguments
// (spackmon user add alice --admin) and returns the positional ones. On -h or --help it
// prints help to out and returns flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string, out io.Writer, help func(io.Writer)) ([]string, error) {
	// The error is returned, not printed: the command prints it once.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			help(out)
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%w; '%s -h' lists the flags", err, fs.Name())
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// warnLoopbackPublicURL warns when the gateway listens beyond loopback while its public URL,
// which its challenges send clients to for tokens, is a loopback one: a client on another
// machine would then ask itself for its token.
func warnLoopbackPublicURL(log *slog.Logger, listen, publicURL string) {
	if host := hostOf(listen); loopbackHost(host) && !net.ParseIP(host).IsUnspecified() {
		return
	}
	u, err := url.Parse(publicURL)
	if err != nil || !loopbackHost(u.Hostname()) {
		return
	}
	log.Warn("clients on other machines are sent to this loopback address for their tokens: set SPACKMON_PUBLIC_URL to the URL they reach this server at",
		"listening", listen, "public_url", publicURL)
}

func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// loopbackHost reports whether host names this machine only: a loopback address or
// localhost (RFC 6761: and its subdomains), or, as a place to send clients, 0.0.0.0.
func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}
