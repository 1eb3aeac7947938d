package main

import (
	"context"

	"github.com/spackmon/spackmon/pkg/server"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	analysisservice "github.com/spackmon/spackmon/services/analysis/service"
)

// runAnalysis serves the analysis gRPC service, which asks ingest about builds.
func runAnalysis(ctx context.Context, args []string) error {
	var cfg analysisConfig
	b, err := bootRole(ctx, "analysis", &cfg, &cfg.Log, &cfg.Process, args, nil)
	if err != nil {
		return err
	}
	defer b.close()
	auth, guard, err := roleGuard(ctx, cfg.Auth, b.log, analysisservice.Methods)
	if err != nil {
		return err
	}
	st, err := openAnalysisStore(ctx, cfg.Database, cfg.URL == "")
	if err != nil {
		return err
	}
	defer st.Close()
	ingest, err := server.Dial(cfg.IngestAddr, cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	defer ingest.Close()
	s := grpcServer(ctx, cfg.Limits, guard, map[string]server.Check{analysisv1.AnalysisService_ServiceDesc.ServiceName: st.Ping})
	analysisSvc := analysisservice.New(st, ingestv1.NewIngestServiceClient(ingest))
	analysisv1.RegisterAnalysisServiceServer(s, analysisSvc)
	analysisv1.RegisterSpliceServiceServer(s, analysisservice.NewSplice(analysisSvc))
	return b.serveService(ctx, cfg.GRPCAddr, cfg.Telemetry, s, guard, "store", storeName(cfg.Database),
		"ingest", cfg.IngestAddr, "auth", authMode(auth))
}
