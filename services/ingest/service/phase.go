package service

import (
	"context"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// One encoder and decoder serve every call: EncodeAll and DecodeAll are safe for
// concurrent use and reuse their internal buffers.
var (
	encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

// UpdatePhase replaces a phase's status and output, and the events found in the output.
func (s *Server) UpdatePhase(ctx context.Context, req *ingestv1.UpdatePhaseRequest) (*ingestv1.UpdatePhaseResponse, error) {
	who, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetBuildId() <= 0 {
		return nil, errs.New(errs.BadRequest, "Missing required build_id.")
	}
	name, status := req.GetPhaseName(), req.GetStatus()
	if strings.TrimSpace(name) == "" || strings.TrimSpace(status) == "" {
		return nil, errs.New(errs.BadRequest, "phase_name, and status are required.")
	}
	if len(name) > maxPhaseName || len(status) > maxStatusLen {
		return nil, errs.New(errs.BadRequest, "phase_name must be at most %d and status at most %d characters.", maxPhaseName, maxStatusLen)
	}
	if err := checkText("phase_name", name); err != nil {
		return nil, err
	}
	// The name is a segment of the read API's paths (…/phases/{name}/output).
	if strings.Contains(name, "/") {
		return nil, errs.New(errs.BadRequest, "phase_name must not contain '/'.")
	}
	if err := checkText("status", status); err != nil {
		return nil, err
	}
	p := store.PhaseUpdate{BuildID: req.GetBuildId(), Name: name, Status: status, OutputNull: req.Output == nil}
	if !p.OutputNull {
		var found logparse.Found
		p.Output, found = compressAndParse(req.GetOutput())
		p.OutputBytes = int64(len(req.GetOutput()))
		p.Events, p.ErrorsTotal, p.WarningsTotal = found.Events, int64(found.Errors), int64(found.Warnings)
	}
	phase, err := s.store.UpdatePhase(ctx, who, p)
	if err != nil {
		return nil, err
	}
	return &ingestv1.UpdatePhaseResponse{BuildPhase: &ingestv1.BuildPhase{Id: phase.ID, Status: phase.Status, Name: phase.Name}}, nil
}

// compressAndParse does the two CPU-bound passes over a log side by side: on a multi-core
// machine a large log costs the slower of the two instead of their sum.
func compressAndParse(output []byte) ([]byte, logparse.Found) {
	if len(output) < 64<<10 {
		return encoder.EncodeAll(output, nil), logparse.Parse(output)
	}
	var compressed []byte
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		compressed = encoder.EncodeAll(output, make([]byte, 0, len(output)/4))
	}()
	found := logparse.Parse(output)
	wg.Wait()
	return compressed, found
}
