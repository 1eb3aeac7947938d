package config

import (
	"log/slog"
	"strings"
	"testing"
)

// A log level is one slog knows, in any case; a misspelt one is refused, as every other
// malformed setting is, rather than taken as info.
func TestLogLevel(t *testing.T) {
	for value, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "WARN": slog.LevelWarn, "error": slog.LevelError} {
		t.Setenv(Prefix+"_LOG_LEVEL", value)
		var c Log
		if err := Load(&c); err != nil || slog.Level(c.Level) != want {
			t.Errorf("%q: %v, %v", value, slog.Level(c.Level), err)
		}
	}
	t.Setenv(Prefix+"_LOG_LEVEL", "bogus")
	var c Log
	if err := Load(&c); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Errorf("a misspelt level: %v", err)
	}
}

// A value that does not parse is refused naming the variable and what it wants, in words a
// user of the service reads, not the parser's.
func TestLoadSaysWhatAVariableWants(t *testing.T) {
	for _, c := range []struct{ key, value, want string }{
		{"_MAX_BODY_BYTES", "lots", `configuration: SPACKMON_MAX_BODY_BYTES="lots": want a whole number`},
		{"_INFLIGHT_WAIT", "soon", `configuration: SPACKMON_INFLIGHT_WAIT="soon": want a duration such as 90s, 5m or 1h`},
		{"_TOKEN_TTL", "abc", `configuration: SPACKMON_TOKEN_TTL: "abc": want seconds (6000) or a duration (100m)`},
		{"_PRIVATE_READS", "maybe", `configuration: SPACKMON_PRIVATE_READS="maybe": want true or false`},
	} {
		t.Run(c.key, func(t *testing.T) {
			t.Setenv(Prefix+c.key, c.value)
			var cfg struct {
				Limits
				Auth
				TTL Seconds `envconfig:"TOKEN_TTL"`
			}
			if err := Load(&cfg); err == nil || err.Error() != c.want {
				t.Errorf("got %v, want %s", err, c.want)
			}
		})
	}
}
