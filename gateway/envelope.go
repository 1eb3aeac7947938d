package gateway

import (
	"encoding/json"

	"github.com/spackmon/spackmon/pkg/authn"
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

func newSpecEnvelope(m *ingestv1.NewSpecResponse, code int) any {
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
	}}
}

func newBuildEnvelope(m *ingestv1.NewBuildResponse, code int) any {
	return envelope{Message: "Build get or create was successful.", Code: code, Data: map[string]any{
		"build_created":             m.GetBuildCreated(),
		"build_environment_created": m.GetBuildEnvironmentCreated(),
		"build":                     ref(m.GetBuild()),
	}}
}

func updatePhaseEnvelope(m *ingestv1.UpdatePhaseResponse, code int) any {
	p := m.GetBuildPhase()
	return envelope{Message: "Phase " + p.GetName() + " was successfully updated.", Code: code, Data: map[string]any{
		"build_phase": map[string]any{"id": p.GetId(), "status": p.GetStatus(), "name": p.GetName()},
	}}
}

// attributeRef is an attribute as the upstream look-ups list it.
type attributeRef struct {
	ID       int64  `json:"id"`
	Filename string `json:"filename"`
	Analyzer string `json:"analyzer"`
	Name     string `json:"name"`
}

func bareSpecs(m *ingestv1.SpecsByName) any {
	specs := make([]any, len(m.GetSpecs()))
	for i, s := range m.GetSpecs() {
		specs[i] = messageValue(s.ProtoReflect())
	}
	return specs
}

func bareAttributes(m *analysisv1.ListAttributesResponse) any {
	attrs := make([]attributeRef, len(m.GetAttributes()))
	for i, a := range m.GetAttributes() {
		attrs[i] = attributeRef{ID: a.GetId(), Filename: a.GetInstallFile(), Analyzer: a.GetAnalyzer(), Name: a.GetName()}
	}
	return attrs
}

// bareAttributeValue is a value in the order upstream chose: JSON, then text (as a JSON
// string), then the bytes.
func bareAttributeValue(m *analysisv1.AttributeValue) any {
	switch {
	case m.JsonValue != nil:
		return json.RawMessage(m.GetJsonValue())
	case m.Value != nil:
		return m.GetValue()
	}
	return rawBody(m.GetBinaryValue())
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
