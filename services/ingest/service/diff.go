package service

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/spackmon/spackmon/pkg/errs"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// DiffSpecs compares two specs field by field, variant by variant and dependency by
// dependency (matched by name).
func (s *Server) DiffSpecs(ctx context.Context, req *ingestv1.DiffSpecsRequest) (*ingestv1.SpecDiff, error) {
	for _, v := range []string{req.GetA(), req.GetB(), req.GetSpackVersionA(), req.GetSpackVersionB()} {
		if longerThan(v, maxNameLength) {
			return nil, errs.New(errs.BadRequest, "A hash or spack version has at most %d characters.", maxNameLength)
		}
	}
	if req.GetA() == "" || req.GetB() == "" {
		return nil, errs.New(errs.BadRequest, "a and b must both name a spec by its full hash.")
	}
	a, err := s.GetSpec(ctx, &ingestv1.GetSpecRequest{FullHash: req.GetA(), SpackVersion: req.GetSpackVersionA()})
	if err != nil {
		return nil, err
	}
	b, err := s.GetSpec(ctx, &ingestv1.GetSpecRequest{FullHash: req.GetB(), SpackVersion: req.GetSpackVersionB()})
	if err != nil {
		return nil, err
	}
	// The dependents are not compared; the answer need not carry them.
	a.Dependents, b.Dependents = nil, nil
	d := &ingestv1.SpecDiff{A: a, B: b}
	for _, f := range []struct{ name, a, b string }{
		{"name", a.GetName(), b.GetName()},
		{"version", a.GetVersion(), b.GetVersion()},
		{"compiler", a.GetCompiler(), b.GetCompiler()},
		{"arch", a.GetArch(), b.GetArch()},
		{"namespace", a.GetNamespace(), b.GetNamespace()},
		{"spack_version", a.GetSpackVersion(), b.GetSpackVersion()},
	} {
		if f.a != f.b {
			d.Fields = append(d.Fields, &ingestv1.FieldChange{Name: f.name, A: f.a, B: f.b})
		}
	}
	d.Variants = diffParameters(a.GetParameters(), b.GetParameters())
	d.Dependencies = diffDependencies(a.GetDependencies(), b.GetDependencies())
	return d, nil
}

// diffParameters compares two parameter documents (JSON objects) key by key; values are
// shown as compact JSON.
func diffParameters(a, b string) []*ingestv1.FieldChange {
	pa, pb := parameters(a), parameters(b)
	var keys []string
	for k := range pa {
		keys = append(keys, k)
	}
	for k := range pb {
		if _, ok := pa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []*ingestv1.FieldChange
	for _, k := range keys {
		va, vb := pa[k], pb[k]
		if va != vb {
			out = append(out, &ingestv1.FieldChange{Name: k, A: va, B: vb})
		}
	}
	return out
}

// parameters reads a parameters document into compact JSON values by key; a document that
// is not an object has none.
func parameters(doc string) map[string]string {
	var raw map[string]json.RawMessage
	if doc == "" || json.Unmarshal([]byte(doc), &raw) != nil {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var buf bytes.Buffer
		if json.Compact(&buf, v) == nil {
			out[k] = buf.String()
		}
	}
	return out
}

// diffDependencies matches the direct dependencies by name.
func diffDependencies(a, b []*ingestv1.SpecLink) []*ingestv1.DependencyChange {
	byName := func(ls []*ingestv1.SpecLink) map[string]*ingestv1.SpecLink {
		m := make(map[string]*ingestv1.SpecLink, len(ls))
		for _, l := range ls {
			m[l.GetName()] = l
		}
		return m
	}
	ma, mb := byName(a), byName(b)
	var names []string
	for n := range ma {
		names = append(names, n)
	}
	for n := range mb {
		if ma[n] == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []*ingestv1.DependencyChange
	for _, n := range names {
		la, lb := ma[n], mb[n]
		switch {
		case lb == nil:
			out = append(out, &ingestv1.DependencyChange{Name: n, Change: "removed", A: la})
		case la == nil:
			out = append(out, &ingestv1.DependencyChange{Name: n, Change: "added", B: lb})
		case la.GetFullHash() != lb.GetFullHash() || la.GetVersion() != lb.GetVersion() || !slices.Equal(la.GetType(), lb.GetType()):
			out = append(out, &ingestv1.DependencyChange{Name: n, Change: "changed", A: la, B: lb})
		}
	}
	return out
}
