package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// phaseUpdatePath is the protocol's phase update, which the gateway streams to ingest
// rather than decoding the body whole (a log may be hundreds of MiB).
const phaseUpdatePath = "/ms1/builds/phases/update"

// phaseMeta is a phase update's body without its output.
type phaseMeta struct {
	BuildID   json.RawMessage `json:"build_id"`
	PhaseName string          `json:"phase_name"`
	Status    string          `json:"status"`
}

// servePhaseUpdate answers a phase update as the generated UpdatePhase handler does, with
// the output passed to ingest's StreamPhase in chunks as the body is decoded.
func (g *Gateway) servePhaseUpdate(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	_, outbound := runtime.MarshalerForRequest(g.mux, r)
	ctx, err := runtime.AnnotateContext(ctx, g.mux, r, ingestv1.IngestService_UpdatePhase_FullMethodName, runtime.WithHTTPPathPattern(phaseUpdatePath))
	if err != nil {
		runtime.HTTPError(ctx, g.mux, outbound, w, r, err)
		return
	}
	var md runtime.ServerMetadata
	resp, err := g.streamPhase(ctx, r, &md)
	ctx = runtime.NewServerMetadataContext(ctx, md)
	if err != nil {
		runtime.HTTPError(ctx, g.mux, outbound, w, r, err)
		return
	}
	runtime.ForwardResponseMessage(ctx, g.mux, outbound, w, r, &ingestv1.UpdatePhaseResponse{BuildPhase: resp.GetBuildPhase()}, g.mux.GetForwardResponseOptions()...)
}

// streamPhase reads the body, sending the output as it comes, and then the phase. A body
// that turns out to be bad cancels the call, so that ingest stores nothing.
func (g *Gateway) streamPhase(ctx context.Context, r *http.Request, md *runtime.ServerMetadata) (*ingestv1.StreamPhaseResponse, error) {
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &phaseSender{ctx: callCtx, client: g.phases, md: md, hint: r.ContentLength}
	body := newPhaseBody(r.Body, func(chunk []byte, reset bool) {
		s.send(&ingestv1.StreamPhaseRequest{Output: chunk, ResetOutput: reset})
	})
	phase, err := body.phase()
	body.release()
	if err != nil {
		return nil, err
	}
	s.send(&ingestv1.StreamPhaseRequest{Phase: phase})
	return s.close()
}

// phase reads the whole body and returns the phase it names, or the error that decoding
// the whole body with readUpdatePhase gives.
func (p *phaseBody) phase() (*ingestv1.StreamedPhase, error) {
	err := p.read()
	var syntax *errPhaseSyntax
	var readErr *errBodyRead
	switch {
	case errors.As(err, &readErr):
		return nil, status.Errorf(codes.InvalidArgument, "%v", fmt.Errorf("The request body could not be read: %w", readErr.err))
	case errors.As(err, &syntax):
		return nil, status.Errorf(codes.InvalidArgument, "Invalid JSON body: %v", syntax)
	case err != nil:
		return nil, status.Errorf(codes.InvalidArgument, "%v", err)
	case p.notText:
		return nil, status.Errorf(codes.InvalidArgument, "output must be a string or null.")
	}
	var m phaseMeta
	phase := &ingestv1.StreamedPhase{OutputNull: !p.outputSet}
	err = decodeInto(p.fields.Bytes(), &m, func() (err error) {
		phase.PhaseName, phase.Status = m.PhaseName, m.Status
		phase.BuildId, err = id("build_id", m.BuildID)
		return err
	})
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%v", err)
	}
	return phase, nil
}

// phaseSender opens the stream with its first message and keeps its first failure: the
// body is still read to its end, since a bad body is answered as such whatever ingest says.
type phaseSender struct {
	ctx    context.Context
	client ingestv1.PhaseStreamServiceClient
	md     *runtime.ServerMetadata
	hint   int64
	stream ingestv1.PhaseStreamService_StreamPhaseClient
	err    error
	// header and trailer are written by gRPC when the call finishes, which may be on its
	// own goroutine after a cancel; they reach md only once CloseAndRecv has finished it.
	header, trailer metadata.MD
}

func (s *phaseSender) send(m *ingestv1.StreamPhaseRequest) {
	if s.err != nil {
		return
	}
	if s.stream == nil {
		s.stream, s.err = s.client.StreamPhase(s.ctx, grpc.Header(&s.header), grpc.Trailer(&s.trailer))
		if s.err != nil {
			return
		}
		m.OutputSizeHint = max(s.hint, 0)
	}
	s.err = s.stream.Send(m)
}

// close ends the stream and returns ingest's answer; a send that failed because ingest
// ended the call early gives way to the status ingest ended it with.
func (s *phaseSender) close() (*ingestv1.StreamPhaseResponse, error) {
	if s.stream == nil {
		return nil, s.err
	}
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return nil, s.err
	}
	resp, err := s.stream.CloseAndRecv()
	s.md.HeaderMD, s.md.TrailerMD = s.header, s.trailer
	return resp, err
}
