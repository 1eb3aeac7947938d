package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/respcode"
	"github.com/spackmon/spackmon/pkg/signing"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// envelope is the /ms1 success body (PROTOCOL.md §1).
type envelope struct {
	Message string `json:"message"`
	Data    any    `json:"data"`
	Code    int    `json:"code"`
}

type buildRef struct {
	BuildID      int64  `json:"build_id"`
	SpecFullHash string `json:"spec_full_hash"`
	SpecName     string `json:"spec_name"`
}

// ref is the protocol's build reference, from ingest's or analysis's.
func ref(b interface {
	GetBuildId() int64
	GetSpecFullHash() string
	GetSpecName() string
}) buildRef {
	return buildRef{BuildID: b.GetBuildId(), SpecFullHash: b.GetSpecFullHash(), SpecName: b.GetSpecName()}
}

// statusCode is the HTTP status the service chose for its answer.
func statusCode(ctx context.Context) int {
	md, ok := runtime.ServerMetadataFromContext(ctx)
	if !ok {
		return http.StatusOK
	}
	return respcode.FromMetadata(md.HeaderMD)
}

// writeStatus is a forward-response option: it sends the status the service chose before
// the body is written.
func writeStatus(ctx context.Context, w http.ResponseWriter, m proto.Message) error {
	if _, ok := m.(*authv1.IssueTokenResponse); ok {
		// A token is a credential: no cache may keep it.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
	}
	if p, ok := m.(interface{ GetNextPageToken() string }); ok && lookup(ctx) && p.GetNextPageToken() != "" {
		// A bare array has no room for the token of the next page (PROTOCOL.md §5).
		w.Header().Set(NextPageHeader, p.GetNextPageToken())
	}
	if code := statusCode(ctx); code != http.StatusOK {
		w.WriteHeader(code)
	}
	return nil
}

// NextPageHeader carries the page_token of a look-up's next page, when there is one.
const NextPageHeader = "X-Next-Page-Token"

// wrap turns the answers of the /ms1 writes into the protocol's envelopes, with the
// protocol's messages; every other answer passes through.
func wrap(ctx context.Context, resp proto.Message) (any, error) {
	code := statusCode(ctx)
	switch m := resp.(type) {
	case *ingestv1.NewSpecResponse:
		s := m.GetSpec()
		specs := s.GetSpecs()
		if specs == nil {
			specs = map[string]string{}
		}
		return envelope{Message: "success", Code: code, Data: map[string]any{
			"spec": map[string]any{
				"full_hash": s.GetFullHash(), "name": s.GetName(), "version": s.GetVersion(),
				"spack_version": s.GetSpackVersion(), "specs": specs,
			},
			"created": m.GetCreated(),
		}}, nil
	case *ingestv1.NewBuildResponse:
		return envelope{Message: "Build get or create was successful.", Code: code, Data: map[string]any{
			"build_created":             m.GetBuildCreated(),
			"build_environment_created": m.GetBuildEnvironmentCreated(),
			"build":                     ref(m.GetBuild()),
		}}, nil
	case *ingestv1.UpdateBuildStatusResponse:
		return envelope{Message: "Status updated", Code: code, Data: map[string]any{"build": ref(m.GetBuild())}}, nil
	case *ingestv1.UpdatePhaseResponse:
		p := m.GetBuildPhase()
		return envelope{Message: "Phase " + p.GetName() + " was successfully updated.", Code: code, Data: map[string]any{
			"build_phase": map[string]any{"id": p.GetId(), "status": p.GetStatus(), "name": p.GetName()},
		}}, nil
	case *analysisv1.RecordAnalysisResponse:
		return envelope{Message: "Metadata updated", Code: code, Data: map[string]any{"build": ref(m.GetBuild())}}, nil
	case *authv1.JWKS:
		return jwks(m), nil
	case *authv1.Revocations:
		return revocationList(m), nil
	}
	if lookup(ctx) {
		return bareLookup(resp), nil
	}
	return resp, nil
}

// lookup reports whether the call came by one of the upstream look-up routes (PROTOCOL.md
// §5), whose answers are bare JSON; the same methods answer /api/v1 as messages.
func lookup(ctx context.Context) bool {
	pattern, _ := runtime.HTTPPathPattern(ctx)
	return strings.HasPrefix(pattern, "/ms1/")
}

// attributeRef is an attribute as the upstream look-ups list it.
type attributeRef struct {
	ID       int64  `json:"id"`
	Filename string `json:"filename"`
	Analyzer string `json:"analyzer"`
	Name     string `json:"name"`
}

func bareLookup(resp proto.Message) any {
	switch m := resp.(type) {
	case *ingestv1.SpecsByName:
		specs := make([]any, len(m.GetSpecs()))
		for i, s := range m.GetSpecs() {
			specs[i] = messageValue(s.ProtoReflect())
		}
		return specs
	case *analysisv1.ListAttributesResponse:
		attrs := make([]attributeRef, len(m.GetAttributes()))
		for i, a := range m.GetAttributes() {
			attrs[i] = attributeRef{ID: a.GetId(), Filename: a.GetInstallFile(), Analyzer: a.GetAnalyzer(), Name: a.GetName()}
		}
		return attrs
	case *analysisv1.AttributeValue:
		// The order upstream chose: JSON, then text (as a JSON string), then the bytes.
		switch {
		case m.JsonValue != nil:
			return json.RawMessage(m.GetJsonValue())
		case m.Value != nil:
			return m.GetValue()
		}
		return rawBody(m.GetBinaryValue())
	}
	return resp
}

// revocationList is the realm's revocations as the verifiers of pkg/authn read them.
func revocationList(m *authv1.Revocations) authn.RevocationList {
	out := authn.RevocationList{Revocations: make([]authn.Revocation, len(m.GetRevocations()))}
	for i, r := range m.GetRevocations() {
		out.Revocations[i] = authn.Revocation{UserID: r.GetUserId(), APITokenID: r.GetApiTokenId(), RevokedAt: r.GetRevokedAt().GetSeconds()}
	}
	return out
}

// jwks is the key set as RFC 7517 writes it: members a key does not have are left out.
func jwks(m *authv1.JWKS) signing.JWKS {
	out := signing.JWKS{Keys: make([]signing.JWK, len(m.GetKeys()))}
	for i, k := range m.GetKeys() {
		out.Keys[i] = signing.JWK{Kty: k.GetKty(), Crv: k.GetCrv(), X: k.GetX(), Y: k.GetY(), Kid: k.GetKid(), Alg: k.GetAlg(), Use: k.GetUse()}
	}
	return out
}
