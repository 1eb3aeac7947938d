package main

import (
	"context"

	"github.com/spackmon/spackmon/pkg/server"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	ingestservice "github.com/spackmon/spackmon/services/ingest/service"
)

// runIngest serves the ingest gRPC service: specs, builds, phases and their events.
func runIngest(ctx context.Context, args []string) error {
	var cfg ingestConfig
	b, err := bootRole(ctx, "ingest", &cfg, &cfg.Log, &cfg.Process, args, nil)
	if err != nil {
		return err
	}
	defer b.close()
	auth, guard, err := roleGuard(ctx, cfg.Auth, b.log, ingestservice.Methods, ingestservice.FailureMethods)
	if err != nil {
		return err
	}
	st, err := openIngestStore(ctx, cfg.Database, cfg.URL == "")
	if err != nil {
		return err
	}
	defer st.Close()
	s := grpcServer(ctx, cfg.Limits, guard, map[string]server.Check{
		ingestv1.IngestService_ServiceDesc.ServiceName:  st.Ping,
		ingestv1.FailureService_ServiceDesc.ServiceName: st.Ping,
	})
	if err := registerIngest(ctx, s, st, cfg.Watch, cfg.MaxBodyBytes, b.log, ingestservice.WithOpenCDashProjects(cfg.OpenProjects),
		ingestservice.WithReadBudget(cfg.InflightReadBytes, cfg.InflightWait)); err != nil {
		return err
	}
	return b.serveService(ctx, cfg.GRPCAddr, cfg.Telemetry, s, guard, "store", storeName(cfg.Database), "auth", authMode(auth))
}
