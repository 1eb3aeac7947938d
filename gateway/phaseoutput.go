package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// phaseOutputPath is a phase's log, which the gateway reads from ingest in pieces
// (PhaseStreamService.GetPhaseOutput) and writes as they come: a log may be hundreds of
// MiB, and read whole it was held by ingest, by gRPC and by the gateway at once.
const phaseOutputPath = "/api/v1/builds/{build_id}/phases/{name}/output"

// phaseOutputParams are the request's fields that come from the path, not the query.
var phaseOutputParams = utilities.NewDoubleArray([][]string{{"build_id"}, {"name"}})

// servePhaseOutput answers as the generated GetPhaseOutput handler did, with the log
// written as ingest decompresses it.
func (g *Gateway) servePhaseOutput(w http.ResponseWriter, r *http.Request, params map[string]string) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	_, outbound := runtime.MarshalerForRequest(g.mux, r)
	ctx, err := runtime.AnnotateContext(ctx, g.mux, r, ingestv1.IngestService_GetPhaseOutput_FullMethodName, runtime.WithHTTPPathPattern(phaseOutputPath))
	if err != nil {
		runtime.HTTPError(ctx, g.mux, outbound, w, r, err)
		return
	}
	req, err := phaseOutputRequest(r, params)
	if err != nil {
		runtime.HTTPError(ctx, g.mux, outbound, w, r, err)
		return
	}
	// A window's HEAD is answered as its GET: only its bytes say how long it is.
	req.HeadOnly = headRequest(r) && wholeLog(req)
	stream, err := g.phases.GetPhaseOutput(ctx, req)
	var first *ingestv1.PhaseOutput
	if err == nil {
		first, err = stream.Recv()
	}
	if err != nil {
		if stream != nil {
			// A refusal's challenge (Www-Authenticate) comes in the trailer.
			ctx = runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{TrailerMD: stream.Trailer()})
		}
		runtime.HTTPError(ctx, g.mux, outbound, w, r, err)
		return
	}
	phaseOutputHeader(w.Header(), first, req)
	if _, err := w.Write(first.GetData()); err != nil {
		return
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				st := status.Convert(err)
				g.log.WarnContext(ctx, "log read cut", "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
			}
			// The status is sent: only a broken answer tells the client it is not whole.
			panic(http.ErrAbortHandler)
		}
		if _, err := w.Write(m.GetData()); err != nil {
			return
		}
	}
}

type headKey struct{}

// headRequest reports whether r is a HEAD the gateway answers as a GET.
func headRequest(r *http.Request) bool {
	head, _ := r.Context().Value(headKey{}).(bool)
	return head
}

// phaseOutputRequest reads the request from the path and the query, as the generated
// handler does.
func phaseOutputRequest(r *http.Request, params map[string]string) (*ingestv1.GetPhaseOutputRequest, error) {
	id, err := runtime.Int64(params["build_id"])
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "type mismatch, parameter: build_id, error: %v", err)
	}
	req := &ingestv1.GetPhaseOutputRequest{BuildId: id, Name: params["name"]}
	if err := r.ParseForm(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%v", err)
	}
	if err := runtime.PopulateQueryParameters(req, r.Form, phaseOutputParams); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%v", err)
	}
	return req, nil
}

// wholeLog reports whether req asks for the whole log, as it was posted.
func wholeLog(req *ingestv1.GetPhaseOutputRequest) bool {
	return req.GetOffset() == 0 && req.GetLimit() == 0 && req.GetMaxLineBytes() == 0 && req.GetGrep() == "" && req.GetContext() == 0
}

// phaseOutputHeader sets the headers of a log's answer: raw text, and what the body cannot
// say. A whole log's length is known before it is read, which lets a client show progress
// and tell a cut answer from a whole one.
func phaseOutputHeader(h http.Header, m *ingestv1.PhaseOutput, req *ingestv1.GetPhaseOutputRequest) {
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if m.GetPruned() {
		h.Set(LogPrunedHeader, "true")
	}
	if m.GetMatchesCapped() {
		h.Set(MatchesCappedHeader, "true")
	}
	if wholeLog(req) && !m.GetNull() {
		h.Set("Content-Length", strconv.FormatInt(m.GetTotalBytes(), 10))
	}
}
