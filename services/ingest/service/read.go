package service

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/page"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// An events page token is the place of the last event of the previous page: its phase's
// id, its line and its id, in the same encoding as the other tokens.
func eventPageToken(k store.EventKey) string {
	return page.Token(fmt.Sprintf("%d.%d.%d", k.PhaseID, k.LineNo, k.ID))
}

func afterEvent(token string) (store.EventKey, error) {
	if token == "" {
		return store.EventKey{}, nil
	}
	raw, err := page.After(token)
	if err == nil {
		if parts := strings.Split(raw, "."); len(parts) == 3 {
			var k store.EventKey
			var perr error
			for i, dst := range []*int64{&k.PhaseID, &k.LineNo, &k.ID} {
				n, err := strconv.ParseInt(parts[i], 10, 64)
				perr, *dst = errors.Join(perr, err), n
			}
			if perr == nil && k.PhaseID > 0 && k.ID > 0 && k.LineNo >= math.MinInt32 && k.LineNo <= math.MaxInt32 {
				return k, nil
			}
		}
	}
	return store.EventKey{}, page.Invalid()
}

// maxFilterLength bounds each filter of ListBuilds: a name, hash or version is at most
// 250 characters, a compiler or platform-os two of them.
const maxFilterLength = 501

// ListBuilds lists builds, newest first or in the order asked.
func (s *Server) ListBuilds(ctx context.Context, req *ingestv1.ListBuildsRequest) (*ingestv1.ListBuildsResponse, error) {
	order := req.GetOrderBy()
	if order == "id" {
		order = ""
	}
	if order != "" && order != store.OrderUpdated && order != store.OrderName && order != store.OrderStatus {
		return nil, errs.New(errs.BadRequest, "order_by must be id, updated, name or status.")
	}
	for _, f := range []struct{ name, value string }{
		{"status", req.GetStatus()}, {"tag", req.GetTag()}, {"spec_name", req.GetSpecName()}, {"owner", req.GetOwner()},
		{"hostname", req.GetHostname()}, {"spack_version", req.GetSpackVersion()}, {"q", req.GetQ()},
		{"version", req.GetVersion()}, {"compiler", req.GetCompiler()},
	} {
		if utf8.RuneCountInString(f.value) > maxFilterLength {
			return nil, errs.New(errs.BadRequest, "%s is longer than %d characters.", f.name, maxFilterLength)
		}
	}
	if st := req.GetStatus(); st != "" && !buildStatuses[st] {
		return nil, errs.New(errs.BadRequest, "Invalid status. Choices are CANCELLED,SUCCESS,NOTRUN,FAILED")
	}
	afterKey, after, err := buildPagePlace(req.GetPageToken(), order)
	if err != nil {
		return nil, err
	}
	dependency, err := optionalConstraint("dependency", req.GetDependency())
	if err != nil {
		return nil, err
	}
	limit := page.Size(req.GetPageSize())
	switch req.GetSource() {
	case "", store.SourceMS1, store.SourceCDash, store.SourceJUnit:
	default:
		return nil, errs.New(errs.BadRequest, "Invalid source. Choices are ms1,cdash,junit")
	}
	builds, err := s.store.ListBuilds(ctx, store.BuildQuery{
		Status: req.GetStatus(), Tag: req.GetTag(), SpecName: req.GetSpecName(), Owner: req.GetOwner(),
		Hostname: req.GetHostname(), SpackVersion: req.GetSpackVersion(), Text: req.GetQ(),
		SpecID: req.GetSpecId(), AfterID: after, Limit: limit, Order: order, AfterKey: afterKey,
		Version: req.GetVersion(), Compiler: req.GetCompiler(),
		Source: req.GetSource(), Project: req.GetProject(), Site: req.GetSite(),
		Dependency: dependency,
	})
	if err != nil {
		return nil, err
	}
	resp := &ingestv1.ListBuildsResponse{Builds: make([]*ingestv1.Build, len(builds))}
	for i, b := range builds {
		resp.Builds[i] = buildMessage(b)
	}
	if len(builds) == limit {
		last := builds[len(builds)-1]
		if order == "" {
			resp.NextPageToken = page.IDToken(last.ID)
		} else {
			resp.NextPageToken = orderedPageToken(order, last.OrderKey(order), last.ID)
		}
	}
	return resp, nil
}

// An ordered page token holds the order, the last build's key in it and its id, so that a
// token is never read in another order than its own.
func orderedPageToken(order, key string, id int64) string {
	data, _ := json.Marshal([]any{order, key, id})
	return page.Token(string(data))
}

// buildPagePlace reads a page token of ListBuilds in order: the key and id to continue
// after.
func buildPagePlace(token, order string) (string, int64, error) {
	if order == "" {
		id, err := page.AfterID(token)
		return "", id, err
	}
	text, err := page.After(token)
	if err != nil || text == "" {
		return "", 0, err
	}
	var place []json.RawMessage
	var gotOrder, key string
	var id int64
	if json.Unmarshal([]byte(text), &place) != nil || len(place) != 3 ||
		json.Unmarshal(place[0], &gotOrder) != nil || json.Unmarshal(place[1], &key) != nil ||
		json.Unmarshal(place[2], &id) != nil || gotOrder != order || id <= 0 {
		return "", 0, page.Invalid()
	}
	return key, id, nil
}

// GetBuild returns one build.
func (s *Server) GetBuild(ctx context.Context, req *ingestv1.GetBuildRequest) (*ingestv1.Build, error) {
	b, err := s.store.GetBuild(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return buildMessage(b), nil
}

func buildMessage(b store.Build) *ingestv1.Build {
	m := &ingestv1.Build{
		Id:     b.ID,
		Status: b.Status,
		Spec: &ingestv1.BuildSpec{
			FullHash: b.Spec.FullHash, Name: b.Spec.Name, Version: b.Spec.Version,
			SpackVersion: b.Spec.SpackVersion, Compiler: b.Spec.Compiler, Arch: b.Spec.Arch, Hash: b.Spec.Hash,
		},
		Environment: &ingestv1.BuildEnvironment{
			Hostname: b.Env.Hostname, Platform: b.Env.Platform, KernelVersion: b.Env.KernelVersion,
			HostOs: b.Env.HostOS, HostTarget: b.Env.HostTarget,
		},
		Tags:      b.Tags,
		Owner:     b.Owner,
		OwnerId:   b.OwnerID,
		Phases:    make([]*ingestv1.PhaseSummary, len(b.Phases)),
		CreatedAt: timestamp(b.CreatedAt),
		UpdatedAt: timestamp(b.UpdatedAt),
	}
	if b.FinishedAt != nil {
		m.FinishedAt = timestamp(*b.FinishedAt)
	}
	m.Source, m.TestsPassed, m.TestsFailed, m.TestsNotrun = b.Source, b.TestsPassed, b.TestsFailed, b.TestsNotRun
	if c := b.CDash; c != nil {
		m.Cdash = &ingestv1.CDashBuild{Project: c.Project, Site: c.Site, BuildName: c.BuildName, Stamp: c.Stamp,
			Track: c.Track, Generator: c.Generator, CompilerName: c.CompilerName, CompilerVersion: c.CompilerVersion,
			OsName: c.OSName, OsRelease: c.OSRelease, OsVersion: c.OSVersion, OsPlatform: c.OSPlatform,
			Revision: c.Revision, UpdateStatus: c.UpdateStatus, Package: c.Package}
	}
	for i, p := range b.Phases {
		m.Phases[i] = phaseSummary(p)
		m.EventsCapped = m.EventsCapped || m.Phases[i].GetEventsCapped()
	}
	return m
}

// phaseSummary is a phase on the wire; it is capped when it kept fewer events than it found.
func phaseSummary(p store.PhaseInfo) *ingestv1.PhaseSummary {
	return &ingestv1.PhaseSummary{Name: p.Name, Status: p.Status, OutputBytes: p.OutputBytes,
		ErrorCount: p.ErrorCount, WarningCount: p.WarningCount,
		ErrorsTotal: p.ErrorsTotal, WarningsTotal: p.WarningsTotal,
		EventsCapped: p.ErrorsTotal > p.ErrorCount || p.WarningsTotal > p.WarningCount}
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// GetPhaseOutput returns a phase's output, whole or a window of it.
func (s *Server) GetPhaseOutput(ctx context.Context, req *ingestv1.GetPhaseOutputRequest) (*ingestv1.PhaseOutput, error) {
	if isGrep(req) {
		return s.grepPhaseOutput(ctx, req)
	}
	head, compressed, done, err := s.phaseOutput(ctx, req, true)
	if err != nil {
		return nil, err
	}
	defer done()
	if head.GetNull() || req.GetHeadOnly() {
		return head, nil
	}
	var data bytes.Buffer
	data.Grow(int(windowSize(head.GetTotalBytes(), req)))
	if err := copyWindow(&data, compressed, req); err != nil {
		return nil, err
	}
	head.Data = data.Bytes()
	return head, nil
}

func isGrep(req *ingestv1.GetPhaseOutputRequest) bool {
	return req.GetGrep() != "" || req.GetContext() != 0
}

// phaseOutput finds the output a window read (not a grep) cuts from: the answer but its
// data, and the compressed log, nil when there is none or the request asks only for the
// head. gathered says the answer's data is gathered whole rather than sent in pieces. done
// ends the read (loadOutput).
func (s *Server) phaseOutput(ctx context.Context, req *ingestv1.GetPhaseOutputRequest, gathered bool) (head *ingestv1.PhaseOutput, compressed []byte, done func(), err error) {
	if req.GetOffset() < 0 || req.GetLimit() < 0 {
		return nil, nil, nil, errs.New(errs.BadRequest, "offset and limit must not be negative.")
	}
	if u := req.GetUnit(); u != "" && u != "bytes" && u != "lines" {
		return nil, nil, nil, errs.New(errs.BadRequest, "unit must be bytes or lines.")
	}
	if m := req.GetMaxLineBytes(); m < 0 || m > 0 && req.GetUnit() != "lines" {
		return nil, nil, nil, errs.New(errs.BadRequest, "max_line_bytes must not be negative, and goes with unit=lines.")
	}
	if req.GetHeadOnly() {
		size, err := s.store.PhaseOutputSize(ctx, req.GetBuildId(), req.GetName())
		if err != nil {
			return nil, nil, nil, err
		}
		return outputHead(size.Null, size.Pruned, size.Bytes), nil, func() {}, nil
	}
	var answer func(store.OutputSize) int64
	if gathered {
		answer = func(size store.OutputSize) int64 { return answerBound(size.Bytes, req) }
	}
	out, done, err := s.loadOutput(ctx, req.GetBuildId(), req.GetName(), answer)
	if err != nil {
		return nil, nil, nil, err
	}
	return outputHead(out.Null, out.Pruned, out.Bytes), out.Compressed, done, nil
}

// outputHead is the answer about a stored log but its data: a null log (none posted, or
// pruned, whose size the store keeps) has no size.
func outputHead(null, pruned bool, bytes int64) *ingestv1.PhaseOutput {
	if null {
		return &ingestv1.PhaseOutput{Null: true, Pruned: pruned}
	}
	return &ingestv1.PhaseOutput{TotalBytes: bytes}
}

// windowSize is what to reserve for a window of a log of size bytes: its size when it is
// known, nothing for lines.
func windowSize(size int64, req *ingestv1.GetPhaseOutputRequest) int64 {
	if req.GetUnit() == "lines" {
		if req.GetOffset() == 0 && req.GetLimit() == 0 && req.GetMaxLineBytes() == 0 {
			return size
		}
		return 0
	}
	size = max(size-req.GetOffset(), 0)
	if req.GetLimit() > 0 {
		return min(size, req.GetLimit())
	}
	return size
}

// answerBound is the most a window of a log of size bytes may hold: the window in bytes; in
// lines, its lines at their longest when both are bounded, else the log.
func answerBound(size int64, req *ingestv1.GetPhaseOutputRequest) int64 {
	if req.GetUnit() != "lines" {
		return windowSize(size, req)
	}
	if n, m := req.GetLimit(), req.GetMaxLineBytes(); n > 0 && m > 0 && n <= size/(m+1) {
		return n * (m + 1)
	}
	return size
}

// copyWindow writes the window [offset, offset+limit) of a compressed log to w, in bytes
// or in lines (limit 0: to the end), decompressing nothing past its end.
func copyWindow(w io.Writer, compressed []byte, req *ingestv1.GetPhaseOutputRequest) error {
	zr, err := zstd.NewReader(bytes.NewReader(compressed), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return err
	}
	defer zr.Close()
	r := bufio.NewReader(zr)
	off, limit := req.GetOffset(), req.GetLimit()
	if req.GetUnit() == "lines" {
		if err := skipLines(r, off); err != nil {
			return err
		}
		if limit > 0 || req.GetMaxLineBytes() > 0 {
			return copyLines(cutLines(w, req.GetMaxLineBytes()), r, cmp.Or(limit, math.MaxInt64))
		}
	} else if _, err := io.CopyN(io.Discard, r, off); err != nil {
		return ignoreEOF(err)
	}
	if limit > 0 {
		_, err = io.CopyN(w, r, limit)
	} else {
		_, err = io.Copy(w, r)
	}
	return ignoreEOF(err)
}

// cutLines is w, or, when max is set, a writer that keeps at most max bytes of each line
// (and its newline).
func cutLines(w io.Writer, max int64) io.Writer {
	if max <= 0 {
		return w
	}
	return &lineCutter{w: w, max: max}
}

type lineCutter struct {
	w    io.Writer
	max  int64
	line int64 // bytes of the current line seen so far
}

func (c *lineCutter) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		end := bytes.IndexByte(rest, '\n') + 1
		if end == 0 {
			end = len(rest)
		}
		part := rest[:end]
		keep := min(int64(len(part)), max(c.max-c.line, 0))
		if _, err := c.w.Write(part[:keep]); err != nil {
			return 0, err
		}
		c.line += int64(len(part))
		if part[len(part)-1] == '\n' {
			if keep < int64(len(part)) {
				if _, err := c.w.Write([]byte{'\n'}); err != nil {
					return 0, err
				}
			}
			c.line = 0
		}
		rest = rest[end:]
	}
	return len(p), nil
}

// skipLines reads past the first n lines of r.
func skipLines(r *bufio.Reader, n int64) error {
	return copyLines(io.Discard, r, n)
}

// copyLines copies the next n lines of r (fewer at its end) to w.
func copyLines(w io.Writer, r *bufio.Reader, n int64) error {
	for ; n > 0; n-- {
		text, err := r.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			if _, err := w.Write(text); err != nil {
				return err
			}
			text, err = r.ReadSlice('\n')
		}
		if _, err := w.Write(text); err != nil {
			return err
		}
		if err != nil {
			return ignoreEOF(err)
		}
	}
	return nil
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// ListBuildEvents lists the errors and warnings found in a build's phases.
func (s *Server) ListBuildEvents(ctx context.Context, req *ingestv1.ListBuildEventsRequest) (*ingestv1.ListBuildEventsResponse, error) {
	kind := logparse.Kind(req.GetKind())
	if kind != "" && kind != logparse.Error && kind != logparse.Warning {
		return nil, errs.New(errs.BadRequest, "kind must be error or warning.")
	}
	after, err := afterEvent(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	limit := page.Size(req.GetPageSize())
	events, err := s.store.ListEvents(ctx, store.EventQuery{BuildID: req.GetBuildId(), Kind: kind, After: after, Limit: limit,
		Hold: s.LogHold()})
	if err != nil {
		return nil, err
	}
	resp := &ingestv1.ListBuildEventsResponse{Events: make([]*ingestv1.BuildEvent, len(events))}
	for i, e := range events {
		resp.Events[i] = buildEvent(e.Phase, e.Event)
	}
	if len(events) == limit {
		resp.NextPageToken = eventPageToken(events[len(events)-1].Key)
	}
	b, err := s.store.GetBuild(ctx, req.GetBuildId())
	if err != nil {
		return nil, err
	}
	for _, p := range b.Phases {
		errorsCapped := kind != logparse.Warning && p.ErrorsTotal > p.ErrorCount
		warningsCapped := kind != logparse.Error && p.WarningsTotal > p.WarningCount
		resp.EventsCapped = resp.EventsCapped || errorsCapped || warningsCapped
	}
	return resp, nil
}

// ListSpecs lists specs in the order they were stored.
func (s *Server) ListSpecs(ctx context.Context, req *ingestv1.ListSpecsRequest) (*ingestv1.ListSpecsResponse, error) {
	after, err := page.AfterID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	dependsOn, err := optionalConstraint("depends_on", req.GetDependsOn())
	if err != nil {
		return nil, err
	}
	limit := page.Size(req.GetPageSize())
	specs, err := s.store.ListSpecs(ctx, store.SpecQuery{Name: req.GetName(), Version: req.GetVersion(),
		SpackVersion: req.GetSpackVersion(), DependsOn: dependsOn, AfterID: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	resp := &ingestv1.ListSpecsResponse{Specs: make([]*ingestv1.Spec, len(specs))}
	for i, sp := range specs {
		resp.Specs[i] = specMessage(sp)
	}
	if len(specs) == limit {
		resp.NextPageToken = page.IDToken(specs[len(specs)-1].ID)
	}
	return resp, nil
}

// ListSpecsByName answers the upstream look-up by package name. Its pages are as long as
// they may be, since upstream clients expect the whole list at once.
func (s *Server) ListSpecsByName(ctx context.Context, req *ingestv1.ListSpecsByNameRequest) (*ingestv1.SpecsByName, error) {
	if req.GetName() == "" {
		return nil, errs.New(errs.BadRequest, "A spec name is required.")
	}
	size := req.GetPageSize()
	if size <= 0 {
		size = page.MaxSize
	}
	list, err := s.ListSpecs(ctx, &ingestv1.ListSpecsRequest{Name: req.GetName(), PageSize: size, PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	return &ingestv1.SpecsByName{Specs: list.GetSpecs(), NextPageToken: list.GetNextPageToken()}, nil
}

// GetSpec returns a spec with its direct dependencies and dependents.
func (s *Server) GetSpec(ctx context.Context, req *ingestv1.GetSpecRequest) (*ingestv1.Spec, error) {
	sp, err := s.store.GetSpec(ctx, req.GetFullHash(), req.GetSpackVersion())
	if err != nil {
		return nil, err
	}
	return specMessage(sp), nil
}

func specMessage(sp store.Spec) *ingestv1.Spec {
	return &ingestv1.Spec{
		Id: sp.ID, Name: sp.Name, Version: sp.Version, SpackVersion: sp.SpackVersion,
		FullHash: sp.FullHash, Hash: sp.Hash, BuildHash: sp.BuildHash, PackageHash: sp.PackageHash,
		Namespace: sp.Namespace, Compiler: sp.Compiler, Arch: sp.Arch, Parameters: sp.Parameters,
		FailedConcretization: sp.FailedConcretization, Stub: sp.Stub,
		Dependencies: links(sp.Deps), Dependents: links(sp.Dependents),
		CreatedAt: timestamp(sp.CreatedAt),
	}
}

func links(ls []store.SpecLink) []*ingestv1.SpecLink {
	out := make([]*ingestv1.SpecLink, len(ls))
	for i, l := range ls {
		out[i] = &ingestv1.SpecLink{Name: l.Name, FullHash: l.FullHash, Version: l.Version, Type: l.Types}
	}
	return out
}

// buildEvent is an event of the named phase on the wire.
func buildEvent(phase string, e logparse.Event) *ingestv1.BuildEvent {
	return &ingestv1.BuildEvent{
		Phase: phase, Kind: string(e.Kind), LineNo: int64(e.LineNo), Text: e.Text,
		SourceFile: e.SourceFile, SourceLine: int64(e.SourceLine),
		PreContext: e.PreContext, PostContext: e.PostContext, Start: int64(e.Start), End: int64(e.End),
		RepeatCount: int64(e.RepeatCount),
	}
}
