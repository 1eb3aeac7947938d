package service

import (
	"context"
	"slices"
	"strings"

	"github.com/spackmon/spackmon/pkg/page"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// diffReadSize is how many install files of each build one read takes while merging.
const diffReadSize = 1000

// DiffAnalysis compares two builds' results. Install files are merged by path from two
// ordered reads, a bounded page at a time, so that two builds with a million files each
// cost no more memory than two reads.
func (s *Server) DiffAnalysis(ctx context.Context, req *analysisv1.DiffAnalysisRequest) (*analysisv1.AnalysisDiff, error) {
	a, b := req.GetA(), req.GetB()
	if err := s.needBuild(ctx, a); err != nil {
		return nil, err
	}
	if err := s.needBuild(ctx, b); err != nil {
		return nil, err
	}
	after, err := page.After(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	limit := page.Size(req.GetPageSize())
	resp := &analysisv1.AnalysisDiff{}
	if after == "" {
		if err := s.diffEnvironment(ctx, a, b, resp); err != nil {
			return nil, err
		}
		if err := s.diffConfigArgs(ctx, a, b, resp); err != nil {
			return nil, err
		}
	}
	if resp.InstallFiles, err = s.diffFiles(ctx, a, b, after, limit); err != nil {
		return nil, err
	}
	if len(resp.InstallFiles) == limit {
		resp.NextPageToken = page.Token(resp.InstallFiles[limit-1].GetPath())
	}
	return resp, nil
}

// diffFiles merges the two builds' install files by path, after the path after, until limit
// changes are found or both run out.
func (s *Server) diffFiles(ctx context.Context, a, b int64, after string, limit int) ([]*analysisv1.InstallFileChange, error) {
	var out []*analysisv1.InstallFileChange
	ca, cb := &fileCursor{s: s, build: a, after: after}, &fileCursor{s: s, build: b, after: after}
	for len(out) < limit {
		fa, err := ca.peek(ctx)
		if err != nil {
			return nil, err
		}
		fb, err := cb.peek(ctx)
		if err != nil {
			return nil, err
		}
		var ch *analysisv1.InstallFileChange
		switch {
		case fa == nil && fb == nil:
			return out, nil
		case fb == nil || (fa != nil && fa.Path < fb.Path):
			ch = &analysisv1.InstallFileChange{Path: fa.Path, Change: "removed", A: fileMessage(*fa)}
			ca.next()
		case fa == nil || fb.Path < fa.Path:
			ch = &analysisv1.InstallFileChange{Path: fb.Path, Change: "added", B: fileMessage(*fb)}
			cb.next()
		default:
			if !sameFile(*fa, *fb) {
				ch = &analysisv1.InstallFileChange{Path: fa.Path, Change: "changed", A: fileMessage(*fa), B: fileMessage(*fb)}
			}
			ca.next()
			cb.next()
		}
		if ch != nil {
			out = append(out, ch)
		}
	}
	return out, nil
}

// fileCursor walks one build's install files in path order, a read at a time.
type fileCursor struct {
	s     *Server
	build int64
	after string
	files []store.InstallFile
	done  bool
}

func (c *fileCursor) peek(ctx context.Context) (*store.InstallFile, error) {
	if len(c.files) == 0 && !c.done {
		files, err := c.s.store.ListInstallFiles(ctx, store.InstallFileQuery{BuildID: c.build, After: c.after, Limit: diffReadSize})
		if err != nil {
			return nil, err
		}
		c.files, c.done = files, len(files) < diffReadSize
	}
	if len(c.files) == 0 {
		return nil, nil
	}
	return &c.files[0], nil
}

func (c *fileCursor) next() {
	c.after = c.files[0].Path
	c.files = c.files[1:]
}

func sameFile(a, b store.InstallFile) bool {
	eq := func(x, y *int64) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return a.Type == b.Type && a.Hash == b.Hash && eq(a.Mode, b.Mode) && eq(a.Owner, b.Owner) && eq(a.Group, b.Group) && eq(a.Size, b.Size)
}

func fileMessage(f store.InstallFile) *analysisv1.InstallFile {
	return &analysisv1.InstallFile{Path: f.Path, Type: f.Type, Mode: f.Mode, Owner: f.Owner, Group: f.Group, Hash: f.Hash, Size: f.Size}
}

func (s *Server) diffEnvironment(ctx context.Context, a, b int64, resp *analysisv1.AnalysisDiff) error {
	va, err := s.store.GetEnvironment(ctx, a)
	if err != nil {
		return err
	}
	vb, err := s.store.GetEnvironment(ctx, b)
	if err != nil {
		return err
	}
	resp.Environment = envChanges(va, vb)
	return nil
}

// envChanges lists the variables added, removed or changed from a to b, by name.
func envChanges(va, vb []store.EnvironmentVariable) []*analysisv1.VariableChange {
	ma, mb := map[string]string{}, map[string]string{}
	var names []string
	for _, v := range va {
		ma[v.Name] = v.Value
		names = append(names, v.Name)
	}
	for _, v := range vb {
		mb[v.Name] = v.Value
		if _, ok := ma[v.Name]; !ok {
			names = append(names, v.Name)
		}
	}
	slices.Sort(names)
	var out []*analysisv1.VariableChange
	for _, n := range names {
		x, inA := ma[n]
		y, inB := mb[n]
		switch {
		case !inB:
			out = append(out, &analysisv1.VariableChange{Name: n, Change: "removed", A: x})
		case !inA:
			out = append(out, &analysisv1.VariableChange{Name: n, Change: "added", B: y})
		case x != y:
			out = append(out, &analysisv1.VariableChange{Name: n, Change: "changed", A: x, B: y})
		}
	}
	return out
}

// diffConfigArgs compares the configure arguments as sets of words.
func (s *Server) diffConfigArgs(ctx context.Context, a, b int64, resp *analysisv1.AnalysisDiff) error {
	xa, _, err := s.store.GetConfigArgs(ctx, a)
	if err != nil {
		return err
	}
	xb, _, err := s.store.GetConfigArgs(ctx, b)
	if err != nil {
		return err
	}
	wa, wb := strings.Fields(xa), strings.Fields(xb)
	resp.ConfigArgsRemoved = onlyIn(wa, wb)
	resp.ConfigArgsAdded = onlyIn(wb, wa)
	return nil
}

// onlyIn lists the distinct words of x that y lacks, in x's order.
func onlyIn(x, y []string) []string {
	skip := make(map[string]bool, len(y)+len(x))
	for _, w := range y {
		skip[w] = true
	}
	var out []string
	for _, w := range x {
		if !skip[w] {
			skip[w] = true
			out = append(out, w)
		}
	}
	return out
}
