package main

import (
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/telemetry"
)

// ingestConfig configures the ingest role.
type ingestConfig struct {
	config.Database
	config.Limits
	config.Log
	config.Telemetry
	config.Auth
	GRPCAddr string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9090" desc:"address the ingest gRPC service listens on"`
}

// analysisConfig configures the analysis role.
type analysisConfig struct {
	config.Database
	config.Limits
	config.Log
	config.Telemetry
	config.Auth
	GRPCAddr   string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9092" desc:"address the analysis gRPC service listens on"`
	IngestAddr string `envconfig:"INGEST_ADDR" default:"127.0.0.1:9090" desc:"address of the ingest gRPC service, asked about builds"`
}

// authConfig configures the auth role.
type authConfig struct {
	config.Database
	config.Log
	config.Telemetry
	config.Auth
	config.GatewayTrust
	Realm
	GRPCAddr string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9091" desc:"address the auth gRPC service listens on"`
}

// Realm is what the role that issues tokens needs besides config.Auth.
type Realm struct {
	SigningKeyFile string         `envconfig:"AUTH_SIGNING_KEY_FILE" desc:"PEM signing key (Ed25519 or P-256), re-read when it changes; empty: one generated in the data dir"`
	TokenTTL       config.Seconds `envconfig:"TOKEN_TTL" default:"600" desc:"lifetime of a realm token, in seconds"`
}

// gatewayConfig configures the gateway role.
type gatewayConfig struct {
	config.Limits
	config.Log
	config.Auth
	HTTPEdge
	IngestAddr   string `envconfig:"INGEST_ADDR" default:"127.0.0.1:9090" desc:"address of the ingest gRPC service"`
	AuthAddr     string `envconfig:"AUTH_ADDR" default:"127.0.0.1:9091" desc:"address of the auth gRPC service"`
	AnalysisAddr string `envconfig:"ANALYSIS_ADDR" default:"127.0.0.1:9092" desc:"address of the analysis gRPC service"`
}

// HTTPEdge is what the gateway and serve share about the HTTP edge.
type HTTPEdge struct {
	config.GatewayTrust
	Addr        string `envconfig:"ADDR" default:"127.0.0.1:8080" desc:"address the HTTP gateway listens on"`
	APIPrefix   string `envconfig:"API_PREFIX" default:"ms1" desc:"path prefix of the Spack Monitor protocol"`
	Environment string `envconfig:"ENVIRONMENT" default:"production" desc:"shown in the service info"`
	// Challenge is what the gateway answers a protocol write without a token with, from
	// the auth settings; empty when writes need none.
	Challenge string `ignored:"true"`
}

// serveConfig configures every role in one process.
type serveConfig struct {
	config.Database
	config.Limits
	config.Log
	config.Auth
	Realm
	HTTPEdge
	GRPCAddr string `envconfig:"GRPC_ADDR" default:"127.0.0.1:9090" desc:"address the gRPC services listen on"`
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

// load reads cfg from the environment, then lets flags override it.
func load(cfg any, args []string, flags func(*flag.FlagSet)) error {
	if err := config.Load(cfg); err != nil {
		return err
	}
	fs := flag.NewFlagSet("spackmon", flag.ContinueOnError)
	if flags != nil {
		flags(fs)
	}
	return fs.Parse(args)
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}
