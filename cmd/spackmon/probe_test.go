package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestProbeHTTP(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := runProbe(ctx, []string{srv.URL + "/readyz"}); err != nil {
		t.Errorf("a 200 failed the probe: %v", err)
	}
	ready.Store(false)
	if err := runProbe(ctx, []string{srv.URL + "/readyz"}); err == nil {
		t.Error("a 503 passed the probe")
	}
	for _, args := range [][]string{nil, {"127.0.0.1:8080"}, {"ftp://127.0.0.1/"}, {srv.URL, srv.URL}} {
		if err := runProbe(ctx, args); !errors.Is(err, errProbeUsage) {
			t.Errorf("probe %q: %v, want the usage", args, err)
		}
	}
}
