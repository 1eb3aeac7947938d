package gateway

import (
	"context"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// protocol holds a row for every RPC whose HTTP form is not its plain messages: the /ms1
// writes and look-ups (PROTOCOL.md §4, §5), the token, the key set, the revocation list and
// the raw downloads. An RPC without a row reads its body as protojson and answers 200 with
// its message. A new RPC with a protocol form adds one row here and its route to
// proto/http.yaml.
var protocol = map[string]rpc{
	ingestv1.IngestService_NewSpec_FullMethodName: row(rpcRow[*ingestv1.NewSpecRequest, *ingestv1.NewSpecResponse]{
		decode:  readNewSpec,
		created: (*ingestv1.NewSpecResponse).GetCreated,
		shape:   newSpecEnvelope,
	}),
	ingestv1.IngestService_NewBuild_FullMethodName: row(rpcRow[*ingestv1.NewBuildRequest, *ingestv1.NewBuildResponse]{
		decode:  readNewBuild,
		created: (*ingestv1.NewBuildResponse).GetBuildCreated,
		shape:   newBuildEnvelope,
	}),
	ingestv1.IngestService_UpdateBuildStatus_FullMethodName: row(rpcRow[*ingestv1.UpdateBuildStatusRequest, *ingestv1.UpdateBuildStatusResponse]{
		decode: readUpdateBuild,
		shape: func(m *ingestv1.UpdateBuildStatusResponse, code int) any {
			return envelope{Message: "Status updated", Code: code, Data: map[string]any{"build": ref(m.GetBuild())}}
		},
	}),
	ingestv1.IngestService_UpdatePhase_FullMethodName: row(rpcRow[*ingestv1.UpdatePhaseRequest, *ingestv1.UpdatePhaseResponse]{
		decode: readUpdatePhase,
		shape:  updatePhaseEnvelope,
	}),
	analysisv1.AnalysisService_RecordAnalysis_FullMethodName: row(rpcRow[*analysisv1.RecordAnalysisRequest, *analysisv1.RecordAnalysisResponse]{
		decode: readAnalyze,
		shape: func(m *analysisv1.RecordAnalysisResponse, code int) any {
			return envelope{Message: "Metadata updated", Code: code, Data: map[string]any{"build": ref(m.GetBuild())}}
		},
	}),
	ingestv1.IngestService_ListSpecsByName_FullMethodName: row(rpcRow[*ingestv1.ListSpecsByNameRequest, *ingestv1.SpecsByName]{
		bare: bareSpecs,
	}),
	analysisv1.AnalysisService_ListAttributes_FullMethodName: row(rpcRow[*analysisv1.ListAttributesRequest, *analysisv1.ListAttributesResponse]{
		bare: bareAttributes,
	}),
	analysisv1.AnalysisService_GetAttributeValue_FullMethodName: row(rpcRow[*analysisv1.GetAttributeValueRequest, *analysisv1.AttributeValue]{
		bare: bareAttributeValue,
		header: func(h http.Header, m *analysisv1.AttributeValue) {
			if m.Value == nil && m.JsonValue == nil {
				h.Set("Content-Type", "application/octet-stream")
			}
		},
	}),
	// An attachment (a CDash notes file or uploaded file) downloads as the bytes sent,
	// never shown inline.
	ingestv1.IngestService_GetBuildAttachment_FullMethodName: row(rpcRow[*ingestv1.GetBuildAttachmentRequest, *ingestv1.BuildAttachment]{
		shape: func(m *ingestv1.BuildAttachment, _ int) any { return rawBody(m.GetContent()) },
		header: func(h http.Header, m *ingestv1.BuildAttachment) {
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(m.GetName())}))
		},
	}),
	authv1.AuthService_IssueToken_FullMethodName: row(rpcRow[*authv1.IssueTokenRequest, *authv1.IssueTokenResponse]{
		header: func(h http.Header, _ *authv1.IssueTokenResponse) {
			// A token is a credential: no cache may keep it.
			h.Set("Cache-Control", "no-store")
			h.Set("Pragma", "no-cache")
		},
	}),
	authv1.AuthService_GetJWKS_FullMethodName: row(rpcRow[*authv1.GetJWKSRequest, *authv1.JWKS]{
		shape: func(m *authv1.JWKS, _ int) any { return jwks(m) },
	}),
	authv1.AuthService_GetRevocations_FullMethodName: row(rpcRow[*authv1.GetRevocationsRequest, *authv1.Revocations]{
		shape: func(m *authv1.Revocations, _ int) any { return revocationList(m) },
	}),
}

// rpcRow is how one RPC's HTTP form differs from its messages Req and Resp. Every field
// may be left out.
type rpcRow[Req, Resp proto.Message] struct {
	// decode fills the request from a protocol body; without it the body is protojson.
	decode func(data []byte, req Req) error
	// created makes a successful answer 201 Created rather than 200 OK; the status is
	// chosen from what the answer says, so the services know nothing of HTTP.
	created func(resp Resp) bool
	// shape is the answer's body on every route, given the answer's status.
	shape func(resp Resp, status int) any
	// bare is the answer's body on the /ms1 look-up routes, which answer bare JSON
	// (PROTOCOL.md §5); the RPC's /api/v1 routes answer with the message.
	bare func(resp Resp) any
	// header sets headers of the answer, Content-Type included (application/json unless set).
	header func(h http.Header, resp Resp)
}

// rpc is a row with its message types erased, as the mux and the codec meet it.
type rpc struct {
	request, response protoreflect.FullName
	decode            func(data []byte, req proto.Message) error
	status            func(resp proto.Message) int
	body              func(ctx context.Context, resp proto.Message) any
	header            func(h http.Header, resp proto.Message)
}

func row[Req, Resp proto.Message](r rpcRow[Req, Resp]) rpc {
	var req Req
	var resp Resp
	out := rpc{
		request:  req.ProtoReflect().Descriptor().FullName(),
		response: resp.ProtoReflect().Descriptor().FullName(),
		status: func(resp proto.Message) int {
			if r.created != nil && r.created(resp.(Resp)) {
				return http.StatusCreated
			}
			return http.StatusOK
		},
		header: func(h http.Header, resp proto.Message) {
			if r.header != nil {
				r.header(h, resp.(Resp))
			}
		},
	}
	if r.decode != nil {
		out.decode = func(data []byte, m proto.Message) error { return r.decode(data, m.(Req)) }
	}
	out.body = func(ctx context.Context, resp proto.Message) any {
		switch {
		case r.shape != nil:
			return r.shape(resp.(Resp), out.status(resp))
		case r.bare != nil && lookup(ctx):
			return r.bare(resp.(Resp))
		}
		return resp
	}
	return out
}

// bodyDecoders are the rows' decoders by request type: the codec sees the request message,
// not the call.
var bodyDecoders = func() map[protoreflect.FullName]func(data []byte, req proto.Message) error {
	decoders := map[protoreflect.FullName]func([]byte, proto.Message) error{}
	for _, r := range protocol {
		if r.decode != nil {
			decoders[r.request] = r.decode
		}
	}
	return decoders
}()

// plainRPC is the row of an RPC that has none.
var plainRPC = rpc{
	status: func(proto.Message) int { return http.StatusOK },
	body:   func(_ context.Context, resp proto.Message) any { return resp },
	header: func(http.Header, proto.Message) {},
}

// rowOf is the row of the RPC a call is for.
func rowOf(ctx context.Context) rpc {
	method, _ := runtime.RPCMethod(ctx)
	if r, ok := protocol[method]; ok {
		return r
	}
	return plainRPC
}

// LogPrunedHeader tells, on an empty phase output, that retention pruned the log rather
// than that Spack sent none: the body is raw text, with no field to say it.
const LogPrunedHeader = "X-Log-Pruned"

// MatchesCappedHeader tells that a ?grep= answer stopped at its cap of matches (or time)
// before the end of the log.
const MatchesCappedHeader = "X-Log-Matches-Capped"

// NextPageHeader carries the page_token of a look-up's next page, when there is one.
const NextPageHeader = "X-Next-Page-Token"

// writeHeader is a forward-response option: it sets the row's headers and sends the
// row's status before the body is written.
func writeHeader(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	r := rowOf(ctx)
	r.header(w.Header(), resp)
	if p, ok := resp.(interface{ GetNextPageToken() string }); ok && lookup(ctx) && p.GetNextPageToken() != "" {
		// A bare array has no room for the token of the next page (PROTOCOL.md §5).
		w.Header().Set(NextPageHeader, p.GetNextPageToken())
	}
	if code := r.status(resp); code != http.StatusOK {
		w.WriteHeader(code)
	}
	return nil
}

// writeBody is the forward-response rewriter: the answer's body as the row shapes it.
func writeBody(ctx context.Context, resp proto.Message) (any, error) {
	return rowOf(ctx).body(ctx, resp), nil
}

// lookup reports whether the call came by one of the upstream look-up routes (PROTOCOL.md
// §5), whose answers are bare JSON; the same methods answer /api/v1 as messages.
func lookup(ctx context.Context) bool {
	pattern, _ := runtime.HTTPPathPattern(ctx)
	return strings.HasPrefix(pattern, "/ms1/")
}
