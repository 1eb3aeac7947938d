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
