package main

import (
	"context"
	"net/http"
	"net/http/pprof"
)

// servePprof serves Go's profiles (net/http/pprof) on their own listener at addr until ctx
// ends: never on the public port, and only when an operator asks for them, because a
// profile shows the program's internals and a CPU profile costs while it runs.
func (b *bootstrap) servePprof(ctx context.Context, addr string) error {
	lis, err := b.listen("pprof", addr)
	if err != nil {
		return err
	}
	go func() {
		if err := serveSide(ctx, pprofHandler(), lis); err != nil {
			b.log.Warn("pprof stopped", "error", err)
		}
	}()
	b.log.Info(b.role+" serving profiles", "pprof", "http://"+lis.Addr().String()+"/debug/pprof/")
	return nil
}

// pprofHandler routes /debug/pprof/ on a mux of its own, not http.DefaultServeMux.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
