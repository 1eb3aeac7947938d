package ui

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/spackmon/spackmon/pkg/spackspec"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// specBuildsShown is how many of a spec's builds its page lists.
const specBuildsShown = 50

type specData struct {
	Spec       *ingestv1.Spec
	Builds     []*ingestv1.Build
	MoreBuilds bool
	Deps       []depBuilds
	Dependents []depBuilds
	// MoreDependents is set when the spec has more dependents than the page lists.
	MoreDependents bool
	// Variants are the spec's parameters as (name, JSON value) pairs; Document the whole
	// spec as indented JSON.
	Variants []variant
	Document string
}

type variant struct{ Name, Value string }

func specPage(r *http.Request, c Clients) (*Page, error) {
	hash := r.PathValue("full_hash")
	if hash == "" || len(hash) > 250 {
		return nil, NotFound("There is no spec %q.", hash)
	}
	ctx := r.Context()
	sp, err := c.Ingest.GetSpec(ctx, &ingestv1.GetSpecRequest{FullHash: hash, SpackVersion: r.URL.Query().Get("spack_version")})
	if err != nil {
		return nil, err
	}
	d := specData{Spec: sp}
	builds, err := c.Ingest.ListBuilds(ctx, &ingestv1.ListBuildsRequest{SpecId: sp.GetId(), PageSize: specBuildsShown})
	if err != nil {
		return nil, err
	}
	d.Builds, d.MoreBuilds = builds.GetBuilds(), builds.GetNextPageToken() != ""
	if d.Deps, err = withBuilds(r, c, sp.GetDependencies()); err != nil {
		return nil, err
	}
	dependents := sp.GetDependents()
	if len(dependents) > maxLinkedSpecs {
		dependents, d.MoreDependents = dependents[:maxLinkedSpecs], true
	}
	if d.Dependents, err = withBuilds(r, c, dependents); err != nil {
		return nil, err
	}
	d.Variants = variants(sp.GetParameters())
	d.Document = specDocument(sp)
	title := sp.GetName() + "@" + sp.GetVersion()
	return &Page{Template: "spec", Title: title, Data: d}, nil
}

// variants lists a parameters document's entries in its own order.
func variants(doc string) []variant {
	if doc == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []variant
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		var buf bytes.Buffer
		if json.Compact(&buf, v) != nil {
			return out
		}
		name, _ := k.(string)
		out = append(out, variant{Name: name, Value: buf.String()})
	}
	return out
}

// specDocument is the spec as the read API gives it, indented unless it nests too deep.
func specDocument(sp *ingestv1.Spec) string {
	doc := map[string]any{
		"name": sp.GetName(), "version": sp.GetVersion(), "full_hash": sp.GetFullHash(), "hash": sp.GetHash(),
		"build_hash": sp.GetBuildHash(), "package_hash": sp.GetPackageHash(), "namespace": sp.GetNamespace(),
		"compiler": sp.GetCompiler(), "arch": sp.GetArch(), "spack_version": sp.GetSpackVersion(),
		"failed_concretization": sp.GetFailedConcretization(),
	}
	if p := sp.GetParameters(); p != "" {
		doc["parameters"] = json.RawMessage(p)
	}
	deps := make([]map[string]any, len(sp.GetDependencies()))
	for i, l := range sp.GetDependencies() {
		deps[i] = map[string]any{"name": l.GetName(), "version": l.GetVersion(), "full_hash": l.GetFullHash(), "type": l.GetType()}
	}
	doc["dependencies"] = deps
	marshal := func(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
	if spackspec.NestingDepth([]byte(sp.GetParameters())) > spackspec.MaxParameterDepth {
		// Stored before ingest refused such parameters: indenting them would make the page
		// grow with the square of their depth.
		marshal = json.Marshal
	}
	out, err := marshal(doc)
	if err != nil {
		return ""
	}
	return string(out)
}
