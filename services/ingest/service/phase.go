package service

import (
	"context"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/telemetry"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// One encoder and decoder serve every call: EncodeAll and DecodeAll are safe for
// concurrent use and reuse their internal buffers.
//
// logWindow is the encoder's window, the 2 MiB the reference zstd takes at this level for
// large inputs. The library's default of 8 MiB kept a 16 MiB history buffer resident for
// the encoder's life; build logs repeat themselves within a few lines, and a 200-spec load
// compressed to the same size with 1, 2, 4 and 8 MiB windows. Under 64 clients posting
// 1 MiB logs, serve's peak RSS went from 160 and 157 MiB to 149 and 150.
const logWindow = 2 << 20

var (
	encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(logWindow))
	decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

// phaseStatuses are what Spack sends for a phase (PROTOCOL.md §4).
var phaseStatuses = map[string]bool{store.StatusSuccess: true, store.PhaseStatusError: true}

// UpdatePhase replaces a phase's status and output, and the events found in the output.
func (s *Server) UpdatePhase(ctx context.Context, req *ingestv1.UpdatePhaseRequest) (*ingestv1.UpdatePhaseResponse, error) {
	who, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkBuildID(req.GetBuildId(), "Missing required build_id."); err != nil {
		return nil, err
	}
	name, status := req.GetPhaseName(), req.GetStatus()
	if strings.TrimSpace(name) == "" || strings.TrimSpace(status) == "" {
		return nil, errs.New(errs.BadRequest, "phase_name, and status are required.")
	}
	if !phaseStatuses[status] {
		return nil, errs.New(errs.BadRequest, "Invalid phase status. Choices are SUCCESS,ERROR")
	}
	if longerThan(name, maxPhaseName) {
		return nil, errs.New(errs.BadRequest, "phase_name must be at most %d characters.", maxPhaseName)
	}
	if err := checkText("phase_name", name); err != nil {
		return nil, err
	}
	// The name is a segment of the read API's paths (…/phases/{name}/output), and a URL
	// resolves "." and ".." away.
	if strings.Contains(name, "/") {
		return nil, errs.New(errs.BadRequest, "phase_name must not contain '/'.")
	}
	if name == "." || name == ".." {
		return nil, errs.New(errs.BadRequest, "phase_name must not be '.' or '..'.")
	}
	p := store.PhaseUpdate{BuildID: req.GetBuildId(), Name: name, Status: status, OutputNull: req.Output == nil}
	if !p.OutputNull {
		var found logparse.Found
		p.Output, found = compressAndParse(req.GetOutput())
		p.OutputBytes = int64(len(req.GetOutput()))
		p.Events, p.ErrorsTotal, p.WarningsTotal = found.Events, int64(found.Errors), int64(found.Warnings)
		p.ContextInOutput = true
	}
	phase, err := s.store.UpdatePhase(ctx, who, p)
	if err != nil {
		return nil, err
	}
	telemetry.PhaseIngested(p.OutputBytes, countKind(p.Events, logparse.Error), countKind(p.Events, logparse.Warning))
	s.changed(p.BuildID)
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

// countKind counts the events of kind.
func countKind(events []logparse.Event, kind logparse.Kind) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
