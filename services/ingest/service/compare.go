package service

import (
	"cmp"
	"context"
	"slices"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// CompareServer answers CompareService from the ingest store.
type CompareServer struct {
	ingestv1.UnimplementedCompareServiceServer
	store store.Store
}

// NewCompare returns the compare service on st.
func NewCompare(st store.Store) *CompareServer { return &CompareServer{store: st} }

// CompareBuilds compares build b with build a.
func (s *CompareServer) CompareBuilds(ctx context.Context, req *ingestv1.CompareBuildsRequest) (*ingestv1.BuildComparison, error) {
	if req.GetA() <= 0 || req.GetB() <= 0 {
		return nil, errs.New(errs.BadRequest, "a and b must be build ids.")
	}
	var builds [2]store.Build
	var dags [2][]store.DAGNode
	for i, id := range []int64{req.GetA(), req.GetB()} {
		var err error
		if builds[i], err = s.store.GetBuild(ctx, id); err != nil {
			return nil, err
		}
		if dags[i], err = s.store.BuildDAG(ctx, id); err != nil {
			return nil, err
		}
	}
	out := &ingestv1.BuildComparison{
		A: buildMessage(builds[0]), B: buildMessage(builds[1]),
		Environment: environmentChanges(builds[0], builds[1]),
		Phases:      comparePhases(builds[0].Phases, builds[1].Phases),
	}
	for i := range dags {
		if len(dags[i]) > store.MaxDAGNodes {
			dags[i], out.DagTruncated = dags[i][:store.MaxDAGNodes], true
		}
	}
	out.Packages, out.LikelyCulprits = compareDAGs(dags[0], dags[1])
	var err error
	if out.Errors, err = errorDelta(ctx, s.store, req.GetA(), req.GetB()); err != nil {
		return nil, err
	}
	return out, nil
}

// environmentChanges lists the fields of where the builds ran that differ.
func environmentChanges(a, b store.Build) []*ingestv1.FieldChange {
	var out []*ingestv1.FieldChange
	for _, f := range []struct{ name, a, b string }{
		{"hostname", a.Env.Hostname, b.Env.Hostname},
		{"kernel_version", a.Env.KernelVersion, b.Env.KernelVersion},
		{"host_os", a.Env.HostOS, b.Env.HostOS},
		{"host_target", a.Env.HostTarget, b.Env.HostTarget},
		{"platform", a.Env.Platform, b.Env.Platform},
		{"spack_version", a.Spec.SpackVersion, b.Spec.SpackVersion},
	} {
		if f.a != f.b {
			out = append(out, &ingestv1.FieldChange{Name: f.name, A: f.a, B: f.b})
		}
	}
	return out
}

// comparePhases pairs the phases by name, in a's order then the ones only b has.
func comparePhases(a, b []store.PhaseInfo) []*ingestv1.PhaseComparison {
	var out []*ingestv1.PhaseComparison
	byName := map[string]*ingestv1.PhaseComparison{}
	for _, p := range a {
		c := &ingestv1.PhaseComparison{Name: p.Name, StatusA: p.Status, OutputBytesA: p.OutputBytes, ErrorsA: p.ErrorsTotal}
		byName[p.Name] = c
		out = append(out, c)
	}
	for _, p := range b {
		c, ok := byName[p.Name]
		if !ok {
			c = &ingestv1.PhaseComparison{Name: p.Name}
			out = append(out, c)
		}
		c.StatusB, c.OutputBytesB, c.ErrorsB = p.Status, p.OutputBytes, p.ErrorsTotal
	}
	return out
}

// compareDAGs pairs the nodes of the two DAGs by package name and lists those that differ,
// with the likely culprits: changed packages whose own spec changed, deepest first.
func compareDAGs(a, b []store.DAGNode) ([]*ingestv1.PackageChange, []string) {
	inA := map[string]store.DAGNode{}
	for _, n := range a {
		inA[n.Name] = n
	}
	inB := map[string]store.DAGNode{}
	for _, n := range b {
		inB[n.Name] = n
	}
	type ranked struct {
		change *ingestv1.PackageChange
		depth  int
	}
	var changes, culprits []ranked
	visit := func(n store.DAGNode, change string, isA bool) {
		c := &ingestv1.PackageChange{Name: n.Name, Change: change}
		if isA {
			c.A = dagNode(n)
		} else {
			c.B = dagNode(n)
		}
		changes = append(changes, ranked{c, n.Depth})
	}
	for _, n := range a {
		m, ok := inB[n.Name]
		if !ok {
			visit(n, "removed", true)
			continue
		}
		fields := nodeChanges(n, m)
		if len(fields) == 0 {
			continue
		}
		c := &ingestv1.PackageChange{Name: n.Name, Change: "changed", A: dagNode(n), B: dagNode(m), Fields: fields}
		changes = append(changes, ranked{c, min(n.Depth, m.Depth)})
		if slices.ContainsFunc(fields, func(f *ingestv1.FieldChange) bool { return f.Name != "hash" }) {
			culprits = append(culprits, ranked{c, max(n.Depth, m.Depth)})
		}
	}
	for _, n := range b {
		if _, ok := inA[n.Name]; !ok {
			visit(n, "added", false)
		}
	}
	slices.SortStableFunc(changes, func(x, y ranked) int { return cmp.Compare(x.depth, y.depth) })
	slices.SortStableFunc(culprits, func(x, y ranked) int { return cmp.Compare(y.depth, x.depth) })
	out := make([]*ingestv1.PackageChange, len(changes))
	for i, c := range changes {
		out[i] = c.change
	}
	names := make([]string, len(culprits))
	for i, c := range culprits {
		names[i] = c.change.Name
	}
	return out, names
}

func dagNode(n store.DAGNode) *ingestv1.DAGNode {
	return &ingestv1.DAGNode{FullHash: n.FullHash, Version: n.Version, Compiler: n.Compiler, Depth: int32(n.Depth)}
}

// nodeChanges lists what differs between two nodes of the same package: version, compiler,
// each variant (variant:NAME), and the hash, which differs too when only a dependency did.
func nodeChanges(a, b store.DAGNode) []*ingestv1.FieldChange {
	var out []*ingestv1.FieldChange
	if a.Version != b.Version {
		out = append(out, &ingestv1.FieldChange{Name: "version", A: a.Version, B: b.Version})
	}
	if a.Compiler != b.Compiler {
		out = append(out, &ingestv1.FieldChange{Name: "compiler", A: a.Compiler, B: b.Compiler})
	}
	for _, v := range diffParameters(a.Parameters, b.Parameters) {
		v.Name = "variant:" + v.Name
		out = append(out, v)
	}
	if a.FullHash != b.FullHash {
		out = append(out, &ingestv1.FieldChange{Name: "hash", A: a.FullHash, B: b.FullHash})
	}
	return out
}

// errorDelta compares the error fingerprints of builds a and b, so two runs whose paths,
// hashes and hosts differ compare equal; each entry is the fingerprint's normalised text.
func errorDelta(ctx context.Context, st store.Store, a, b int64) (*ingestv1.ErrorDelta, error) {
	var prints [2][]fingerprint.Count
	for i, id := range []int64{a, b} {
		list, err := st.BuildFingerprints(ctx, id, false)
		if err != nil {
			return nil, err
		}
		for _, f := range list {
			if f.Kind == logparse.Error {
				prints[i] = append(prints[i], f.Count)
			}
		}
	}
	delta := fingerprint.Compare(prints[1], prints[0])
	texts := func(list []fingerprint.Count) []string {
		out := make([]string, len(list))
		for i, c := range list {
			out[i] = c.Normal
		}
		return out
	}
	return &ingestv1.ErrorDelta{Method: "fingerprint", New: texts(delta.New), Fixed: texts(delta.Fixed), Outstanding: texts(delta.Outstanding)}, nil
}
