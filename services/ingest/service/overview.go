package service

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"google.golang.org/protobuf/proto"

	"github.com/spackmon/spackmon/pkg/errs"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/store"
)

const (
	defaultChartDays = 30
	maxChartDays     = 366
	maxSpecHashes    = 500
	defaultPerSpec   = 5
	maxPerSpec       = 20
	// maxNameLength is the longest name, hash or version a spec node may have.
	maxNameLength = 250
)

// CountBuildsByDay counts the builds of the last days by status, every day of the range
// listed, oldest first.
func (s *Server) CountBuildsByDay(ctx context.Context, req *ingestv1.CountBuildsByDayRequest) (*ingestv1.BuildCountsByDay, error) {
	days := int(req.GetDays())
	if days == 0 {
		days = defaultChartDays
	}
	if days < 1 || days > maxChartDays {
		return nil, errs.New(errs.BadRequest, "days must be between 1 and %d.", maxChartDays)
	}
	if longerThan(req.GetOwner(), maxNameLength) {
		return nil, errs.New(errs.BadRequest, "owner is longer than %d characters.", maxNameLength)
	}
	y, m, d := time.Now().UTC().Date()
	first := time.Date(y, m, d-days+1, 0, 0, 0, 0, time.UTC)
	key := dayCountKey{first: first, days: days, owner: req.GetOwner()}
	if resp, ok := s.dayCounts.get(key); ok {
		return resp, nil
	}
	counts, err := s.store.BuildCountsByDay(ctx, first, req.GetOwner())
	if err != nil {
		return nil, err
	}
	resp := &ingestv1.BuildCountsByDay{Days: make([]*ingestv1.DayCounts, days)}
	index := map[string]*ingestv1.DayCounts{}
	for i := range resp.Days {
		day := first.AddDate(0, 0, i).Format(time.DateOnly)
		resp.Days[i] = &ingestv1.DayCounts{Day: day}
		index[day] = resp.Days[i]
	}
	for _, c := range counts {
		dc, ok := index[c.Day]
		if !ok {
			continue // made after midnight while the range was being computed
		}
		switch c.Status {
		case store.StatusSuccess:
			dc.Success += c.Count
		case store.StatusFailed:
			dc.Failed += c.Count
		case store.StatusCancelled:
			dc.Cancelled += c.Count
		default:
			dc.Notrun += c.Count
		}
	}
	s.dayCounts.put(key, resp)
	return resp, nil
}

// dayCountTTL is how long a count of builds by day is answered again without counting: the
// dashboard asks on every view, and a month of builds is every build of that month read.
const dayCountTTL = 10 * time.Second

// maxDayCounts bounds the answers kept (one per range and owner asked).
const maxDayCounts = 256

type dayCountKey struct {
	first time.Time
	days  int
	owner string
}

type dayCountEntry struct {
	resp    *ingestv1.BuildCountsByDay
	expires time.Time
}

// dayCountCache keeps recent answers of CountBuildsByDay, for a few seconds each.
type dayCountCache struct {
	mu      sync.Mutex
	entries map[dayCountKey]dayCountEntry
}

func newDayCountCache() *dayCountCache {
	return &dayCountCache{entries: map[dayCountKey]dayCountEntry{}}
}

func (c *dayCountCache) get(k dayCountKey) (*ingestv1.BuildCountsByDay, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return proto.CloneOf(e.resp), true
}

func (c *dayCountCache) put(k dayCountKey, resp *ingestv1.BuildCountsByDay) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxDayCounts {
		clear(c.entries)
	}
	c.entries[k] = dayCountEntry{resp: proto.CloneOf(resp), expires: time.Now().Add(dayCountTTL)}
}

// ListSpecBuilds gives the newest builds of each asked spec, in the order asked.
func (s *Server) ListSpecBuilds(ctx context.Context, req *ingestv1.ListSpecBuildsRequest) (*ingestv1.ListSpecBuildsResponse, error) {
	hashes := req.GetFullHashes()
	if len(hashes) > maxSpecHashes {
		return nil, errs.New(errs.BadRequest, "At most %d full hashes may be asked at once.", maxSpecHashes)
	}
	var distinct []string
	for _, h := range hashes {
		if h == "" || longerThan(h, maxNameLength) {
			return nil, errs.New(errs.BadRequest, "A full hash has 1 to %d characters.", maxNameLength)
		}
		if !slices.Contains(distinct, h) {
			distinct = append(distinct, h)
		}
	}
	per := int(req.GetPerSpec())
	if per == 0 {
		per = defaultPerSpec
	}
	if per < 1 || per > maxPerSpec {
		return nil, errs.New(errs.BadRequest, "per_spec must be between 1 and %d.", maxPerSpec)
	}
	builds, err := s.store.SpecBuilds(ctx, distinct, per)
	if err != nil {
		return nil, err
	}
	byHash := map[string]*ingestv1.SpecBuilds{}
	for _, b := range builds {
		sb := byHash[b.FullHash]
		if sb == nil {
			sb = &ingestv1.SpecBuilds{FullHash: b.FullHash}
			byHash[b.FullHash] = sb
		}
		sb.Builds = append(sb.Builds, &ingestv1.BuildStatus{Id: b.ID, Status: b.Status})
	}
	resp := &ingestv1.ListSpecBuildsResponse{}
	for _, h := range distinct {
		if sb := byHash[h]; sb != nil {
			resp.Specs = append(resp.Specs, sb)
		}
	}
	return resp, nil
}

// GetBuildMatrix counts a package's builds by version and compiler.
func (s *Server) GetBuildMatrix(ctx context.Context, req *ingestv1.GetBuildMatrixRequest) (*ingestv1.BuildMatrix, error) {
	name, arch := req.GetPackage(), req.GetArch()
	if name == "" || longerThan(name, maxNameLength) {
		return nil, errs.New(errs.BadRequest, "package must name a package (1 to %d characters).", maxNameLength)
	}
	if longerThan(arch, 2*maxNameLength+1) {
		return nil, errs.New(errs.BadRequest, "arch is too long.")
	}
	if arch == "all" {
		arch = ""
	}
	counts, err := s.store.MatrixCounts(ctx, name)
	if err != nil {
		return nil, err
	}
	type key struct{ version, compiler string }
	cells := map[key]*ingestv1.MatrixCell{}
	archs := map[string]bool{}
	for _, c := range counts {
		if c.Arch != "" {
			archs[c.Arch] = true
		}
		if arch != "" && c.Arch != arch {
			continue
		}
		k := key{c.Version, c.Compiler}
		cell := cells[k]
		if cell == nil {
			cell = &ingestv1.MatrixCell{Version: c.Version, Compiler: c.Compiler}
			cells[k] = cell
		}
		switch c.Status {
		case store.StatusSuccess:
			cell.Success += c.Count
		case store.StatusFailed:
			cell.Failed += c.Count
		case store.StatusCancelled:
			cell.Cancelled += c.Count
		case store.FailedConcretization:
			cell.FailedConcretization += c.Count
		default:
			cell.Notrun += c.Count
		}
	}
	m := &ingestv1.BuildMatrix{}
	seenV, seenC := map[string]bool{}, map[string]bool{}
	for k, cell := range cells {
		m.Cells = append(m.Cells, cell)
		if !seenV[k.version] {
			seenV[k.version] = true
			m.Versions = append(m.Versions, k.version)
		}
		if !seenC[k.compiler] {
			seenC[k.compiler] = true
			m.Compilers = append(m.Compilers, k.compiler)
		}
	}
	slices.SortFunc(m.Versions, func(a, b string) int { return CompareVersions(b, a) })
	slices.SortFunc(m.Compilers, compareCompilers)
	slices.SortFunc(m.Cells, func(a, b *ingestv1.MatrixCell) int {
		return cmp.Or(CompareVersions(b.GetVersion(), a.GetVersion()), compareCompilers(a.GetCompiler(), b.GetCompiler()))
	})
	for a := range archs {
		m.Archs = append(m.Archs, a)
	}
	slices.Sort(m.Archs)
	return m, nil
}

// compareCompilers orders name@version by name, then by version.
func compareCompilers(a, b string) int {
	an, av, _ := strings.Cut(a, "@")
	bn, bv, _ := strings.Cut(b, "@")
	return cmp.Or(strings.Compare(an, bn), CompareVersions(av, bv))
}

// CompareVersions orders versions as Spack reads them: numeric parts as numbers (1.10
// after 1.9), other parts as text and before numbers, and a version that goes on past the
// other's end later (1.0-rc1 after 1.0, as Spack orders them before it knew pre-releases).
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.ParseUint(pa[i], 10, 64)
		nb, errB := strconv.ParseUint(pb[i], 10, 64)
		switch {
		case errA == nil && errB == nil:
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
		case errA == nil:
			return 1 // a number sorts after a word (1.0 after 1.0.rc1)
		case errB == nil:
			return -1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

// versionParts splits a version at its separators and between digits and letters.
func versionParts(v string) []string {
	var parts []string
	start := -1
	digit := false
	for i, r := range v {
		sep := r == '.' || r == '-' || r == '_' || r == '+'
		isDigit := unicode.IsDigit(r)
		if sep || (start >= 0 && isDigit != digit) {
			if start >= 0 {
				parts = append(parts, v[start:i])
			}
			start = -1
		}
		if !sep && start < 0 {
			start, digit = i, isDigit
		}
	}
	if start >= 0 {
		parts = append(parts, v[start:])
	}
	return parts
}
