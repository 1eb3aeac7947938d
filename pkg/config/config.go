// Package config holds the configuration parts the roles share. Each role's struct embeds
// the parts it needs and is read from SPACKMON_* environment variables with envconfig.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Prefix of every environment variable.
const Prefix = "SPACKMON"

// Database selects the store: PostgreSQL when URL is set, else SQLite in DataDir.
type Database struct {
	URL     string `envconfig:"DATABASE_URL" desc:"PostgreSQL URL (postgres://user@host/db); empty: SQLite in the data dir"`
	DataDir string `envconfig:"DATA_DIR" default:"./spackmon-data" desc:"where the embedded SQLite database lives"`
}

// Limits bound what a client may send.
type Limits struct {
	MaxBodyBytes int64 `envconfig:"MAX_BODY_BYTES" default:"268435456" desc:"largest request body; larger ones get 413"`
	// InflightBodyBytes bounds the gateway's memory for bodies whatever the number of clients.
	InflightBodyBytes int64 `envconfig:"INFLIGHT_BODY_BYTES" default:"33554432" desc:"memory the request bodies in flight may take, each counted as the copies it becomes (6 times its size, 2 for a phase log); a body beyond it waits, unread, for SPACKMON_INFLIGHT_WAIT, then gets 503 with Retry-After (a body alone is always taken); 0: no bound"`
	// InflightReadBytes bounds ingest's memory for the logs being read whatever the number
	// of readers: a read holds its log as stored for as long as its client takes the answer.
	InflightReadBytes int64 `envconfig:"INFLIGHT_READ_BYTES" default:"33554432" desc:"memory the phase logs being read (for themselves or for their events' context) may take in ingest, each read counted as its log as stored plus the decompressor's history (up to 8 MiB) and a piece of the answer; a read beyond it waits for SPACKMON_INFLIGHT_WAIT, then gets 503 with Retry-After (a read alone is always taken); 0: no bound"`
	// InflightWait lets a burst of clients queue rather than be refused.
	InflightWait time.Duration `envconfig:"INFLIGHT_WAIT" default:"60s" desc:"how long a request body that does not fit in SPACKMON_INFLIGHT_BODY_BYTES, or a log read that does not fit in SPACKMON_INFLIGHT_READ_BYTES, waits for others to finish before it gets 503 (a Go duration such as 60s; 0: at once)"`
}

// Telemetry configures what a gRPC-only role exposes besides its service.
type Telemetry struct {
	MetricsAddr string `envconfig:"METRICS_ADDR" desc:"address serving this role's Prometheus /metrics; empty: none (serve and the gateway have /metrics on their HTTP address)"`
}

// Log configures logging.
type Log struct {
	Level LogLevel `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
}

// LogLevel is a level named as slog names them, in any case; empty is info, and a
// misspelt name is refused rather than taken as info.
type LogLevel slog.Level

// Decode implements envconfig.Decoder.
func (l *LogLevel) Decode(v string) error {
	level := slog.LevelInfo
	if v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return err
		}
	}
	*l = LogLevel(level)
	return nil
}

// Load reads cfg from the environment. A value that does not parse is named with what its
// variable wants, not with the parser's words.
func Load(cfg any) error {
	err := envconfig.Process(Prefix, cfg)
	var bad *envconfig.ParseError
	switch {
	case errors.As(err, &bad):
		if want := wants(bad.TypeName); want != "" {
			return fmt.Errorf("configuration: %s=%q: %s", bad.KeyName, bad.Value, want)
		}
		// The types of this package that decode themselves say what they want.
		return fmt.Errorf("configuration: %s: %v", bad.KeyName, bad.Err)
	case err != nil:
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

// wants says what a variable of a plain type takes.
func wants(typeName string) string {
	switch {
	case typeName == "bool":
		return "want true or false"
	case typeName == "time.Duration":
		return "want a duration such as 90s, 5m or 1h"
	case strings.HasPrefix(typeName, "int") || strings.HasPrefix(typeName, "uint"):
		return "want a whole number"
	case strings.HasPrefix(typeName, "float"):
		return "want a number"
	}
	return ""
}

// Usage lists every variable of cfg with its default and description.
func Usage(w io.Writer, cfg any) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	const format = `{{range .}}  {{usage_key .}}	{{usage_default .}}	{{usage_description .}}
{{end}}`
	if err := envconfig.Usagef(Prefix, cfg, tw, format); err != nil {
		return err
	}
	return tw.Flush()
}
