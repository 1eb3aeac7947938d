package service

import (
	"errors"
	"io"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/telemetry"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// PhaseStream takes a phase's log in chunks: the gateway sends a large log as it decodes
// it, so that neither it nor the gRPC buffers ever hold the whole log; only the call here
// does, once, for the parser and the compressor, which need it whole.
type PhaseStream struct {
	ingestv1.UnimplementedPhaseStreamServiceServer
	ingest *Server
	// maxOutput bounds the log of one call, as the message size bounds UpdatePhase's.
	maxOutput int64
}

// NewPhaseStream serves StreamPhase through s's UpdatePhase, taking logs of at most
// maxOutput bytes.
func NewPhaseStream(s *Server, maxOutput int64) *PhaseStream {
	return &PhaseStream{ingest: s, maxOutput: maxOutput}
}

// firstReserve bounds what a size hint alone makes the call reserve: the hint is the
// client's claim, and only bytes that arrived justify more.
const firstReserve = 4 << 20

// StreamPhase gathers the log, then stores the phase exactly as UpdatePhase does. A stream
// that does not end cleanly stores nothing.
func (p *PhaseStream) StreamPhase(stream ingestv1.PhaseStreamService_StreamPhaseServer) error {
	req, err := p.receive(stream)
	if err != nil {
		return err
	}
	resp, err := p.ingest.UpdatePhase(stream.Context(), req)
	if err != nil {
		return err
	}
	return stream.SendAndClose(&ingestv1.StreamPhaseResponse{BuildPhase: resp.GetBuildPhase()})
}

// receive reads the stream to its end: output chunks, then the phase in the last message.
func (p *PhaseStream) receive(stream ingestv1.PhaseStreamService_StreamPhaseServer) (*ingestv1.UpdatePhaseRequest, error) {
	var out outputBuffer
	var last *ingestv1.StreamPhaseRequest
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if last.GetPhase() != nil {
			return nil, errs.New(errs.BadRequest, "The phase must come in the stream's last message.")
		}
		if m.GetResetOutput() {
			out.reset()
		}
		if int64(len(out.data))+int64(len(m.GetOutput())) > p.maxOutput {
			return nil, errs.New(errs.BadRequest, "The output is larger than %d bytes.", p.maxOutput)
		}
		out.add(m.GetOutput(), m.GetOutputSizeHint())
		last = m
	}
	phase := last.GetPhase()
	if phase == nil {
		return nil, errs.New(errs.BadRequest, "The stream ended without its phase.")
	}
	telemetry.AnnotateMessage(stream.Context(), phase)
	req := &ingestv1.UpdatePhaseRequest{BuildId: phase.GetBuildId(), PhaseName: phase.GetPhaseName(), Status: phase.GetStatus()}
	if !phase.GetOutputNull() {
		req.Output = out.bytes()
	}
	return req, nil
}

// outputBuffer gathers a log in one buffer, sized from the expected size once the log's
// first bytes show it is really coming, so that a large log is not copied over and over
// as the buffer grows.
type outputBuffer struct {
	data []byte
	hint int64
}

func (b *outputBuffer) add(chunk []byte, hint int64) {
	if hint > 0 {
		b.hint = hint
	}
	need := len(b.data) + len(chunk)
	if need > cap(b.data) {
		size := max(need, 2*cap(b.data), int(min(b.hint, firstReserve)))
		if len(b.data) > 0 && int64(need) <= b.hint {
			size = int(b.hint)
		}
		grown := make([]byte, len(b.data), size)
		copy(grown, b.data)
		b.data = grown
	}
	b.data = append(b.data, chunk...)
}

func (b *outputBuffer) reset() { b.data = b.data[:0] }

// bytes is the log; empty rather than nil, since nil means no log.
func (b *outputBuffer) bytes() []byte {
	if b.data == nil {
		return []byte{}
	}
	return b.data
}

// readPiece is the most data one message of a streamed read carries.
const readPiece = 256 << 10

// GetPhaseOutput answers IngestService.GetPhaseOutput in pieces, sent as the log is
// decompressed: gRPC's flow control holds the decompression back while the caller has not
// taken the pieces before, so a read holds the compressed log and a few pieces, whatever
// its size.
func (p *PhaseStream) GetPhaseOutput(req *ingestv1.GetPhaseOutputRequest, stream ingestv1.PhaseStreamService_GetPhaseOutputServer) error {
	ctx := stream.Context()
	if isGrep(req) {
		out, err := p.ingest.grepPhaseOutput(ctx, req)
		if err != nil {
			return err
		}
		return stream.Send(out)
	}
	head, compressed, done, err := p.ingest.phaseOutput(ctx, req, false)
	if err != nil {
		return err
	}
	defer done()
	if head.GetNull() || req.GetHeadOnly() {
		return stream.Send(head)
	}
	pieces := &pieceSender{stream: stream, head: head}
	if err := copyWindow(pieces, compressed, req); err != nil {
		return err
	}
	return pieces.send()
}

// pieceSender sends what is written to it in messages of readPiece bytes, the first of
// them head.
type pieceSender struct {
	stream ingestv1.PhaseStreamService_GetPhaseOutputServer
	head   *ingestv1.PhaseOutput
	piece  []byte
}

func (s *pieceSender) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if s.piece == nil {
			s.piece = make([]byte, 0, readPiece)
		}
		n := copy(s.piece[len(s.piece):cap(s.piece)], p)
		s.piece = s.piece[:len(s.piece)+n]
		p, written = p[n:], written+n
		if len(s.piece) == readPiece {
			if err := s.send(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// send sends the piece gathered, in head if head is not sent yet. A piece is not reused:
// gRPC may hold a message after sending it (its stats handlers).
func (s *pieceSender) send() error {
	m := s.head
	if m == nil {
		if len(s.piece) == 0 {
			return nil
		}
		m = &ingestv1.PhaseOutput{}
	}
	m.Data, s.head, s.piece = s.piece, nil, nil
	return s.stream.Send(m)
}
