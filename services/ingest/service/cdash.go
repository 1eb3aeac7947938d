package service

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/cdash"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// MaxCDashPartBytes is the largest part (or uploaded file) taken: far above what ctest and
// Spack send for a build, small enough that reading one into a tree stays cheap.
const MaxCDashPartBytes = 32 << 20

// What is kept of a part's names and texts, in characters.
const (
	maxCDashName = 250
	// maxTestOutputShown is how much of each test's output ListBuildTests answers, and
	// maxTestOutputsShown how much in all, so that an answer stays well within a message.
	maxTestOutputShown  = 64 << 10
	maxTestOutputsShown = 2 << 20
)

// cdashActor is who submits to project: the caller when the call carried a token (or auth
// is off), else anonymous when the project is open to anonymous submissions.
func (s *Server) cdashActor(ctx context.Context, project string) (store.Actor, error) {
	if id, ok := authn.FromContext(ctx); ok && id.Name != "" {
		return store.Actor{Name: id.Name, UserID: id.UserID, Admin: id.Admin}, nil
	}
	if s.openProjects[project] {
		return store.Actor{Name: authn.AnonymousUser}, nil
	}
	return store.Actor{}, errs.New(errs.Unauthenticated,
		"Project %q takes submissions only with a token: send Authorization: Bearer <API token>.", project)
}

// cdashKey checks the names that identify a build, taking those the query left empty
// from the part.
func cdashKey(project, buildName, site, stamp string, p *cdash.Part) (store.CDashKey, error) {
	if p != nil {
		buildName = orElse(buildName, p.Site.BuildName)
		site = orElse(site, p.Site.Name)
		stamp = orElse(stamp, p.Site.BuildStamp)
	}
	k := store.CDashKey{Source: store.SourceCDash, Project: project, Site: site, BuildName: buildName, Stamp: stamp}
	for _, f := range []struct{ name, value string }{
		{"project", k.Project}, {"build", k.BuildName}, {"site", k.Site}, {"stamp", k.Stamp},
	} {
		if strings.TrimSpace(f.value) == "" && (f.name == "build" || f.name == "stamp") {
			return k, errs.New(errs.BadRequest, "The %s is missing: set it in the query or the part (CTEST_BUILD_NAME for the build name).", f.name)
		}
		if problem := textProblem(f.value, maxCDashName); problem != "" || !utf8.ValidString(f.value) {
			return k, errs.New(errs.BadRequest, "The %s name %s.", f.name, orElse(problem, "is not UTF-8"))
		}
	}
	return k, nil
}

// orElse is a unless it is empty, else b.
func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SubmitCDashPart stores one submitted part.
func (s *Server) SubmitCDashPart(ctx context.Context, req *ingestv1.SubmitCDashPartRequest) (*ingestv1.SubmitCDashPartResponse, error) {
	if len(req.GetPart()) > MaxCDashPartBytes {
		return nil, errs.New(errs.BodyTooLarge, "The part is larger than %d bytes.", MaxCDashPartBytes)
	}
	who, err := s.cdashActor(ctx, req.GetProject())
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(req.GetPart())
	got := hex.EncodeToString(sum[:])
	if want := strings.ToLower(req.GetMd5()); want != "" && want != got {
		return nil, errs.New(errs.BadRequest, "The MD5 sum of the part is %s, not %s as sent.", got, want)
	}
	part, err := cdash.Parse(req.GetPart())
	if err != nil {
		return nil, errs.New(errs.BadRequest, "Invalid part: %s", strings.TrimPrefix(err.Error(), cdash.ErrMalformed.Error()+": "))
	}
	if part.Kind == cdash.Done && req.GetBuildName() == "" {
		// Done only repeats the build id ctest was given; without names (ctest -S without
		// CTEST_BUILD_NAME, whose other parts named the build in their Site) it names no
		// build, and has nothing to store.
		return &ingestv1.SubmitCDashPartResponse{Md5: got, Kind: string(part.Kind)}, nil
	}
	key, err := cdashKey(req.GetProject(), req.GetBuildName(), req.GetSite(), req.GetStamp(), part)
	if err != nil {
		return nil, err
	}
	put, err := cdashPut(key, part)
	if err != nil {
		return nil, err
	}
	res, err := s.store.PutCDashPart(ctx, who, put)
	if err != nil {
		return nil, err
	}
	s.changed(res.BuildID)
	return &ingestv1.SubmitCDashPartResponse{BuildId: res.BuildID, Md5: got, Kind: string(part.Kind), BuildCreated: res.Created}, nil
}

// OpenCDashBuild gets or creates a build without a part.
func (s *Server) OpenCDashBuild(ctx context.Context, req *ingestv1.OpenCDashBuildRequest) (*ingestv1.OpenCDashBuildResponse, error) {
	who, err := s.cdashActor(ctx, req.GetProject())
	if err != nil {
		return nil, err
	}
	key, err := cdashKey(req.GetProject(), req.GetBuildName(), req.GetSite(), req.GetStamp(), nil)
	if err != nil {
		return nil, err
	}
	put := store.CDashPart{Key: key, SpecName: specName(key.BuildName, false), Env: store.BuildEnv{Hostname: key.Site},
		Info: store.CDashInfo{Track: track(key.Stamp)}}
	res, err := s.store.PutCDashPart(ctx, who, put)
	if err != nil {
		return nil, err
	}
	return &ingestv1.OpenCDashBuildResponse{BuildId: res.BuildID, BuildCreated: res.Created}, nil
}

// AttachCDashFile stores a file of ctest's upload API.
func (s *Server) AttachCDashFile(ctx context.Context, req *ingestv1.AttachCDashFileRequest) (*ingestv1.AttachCDashFileResponse, error) {
	if err := checkBuildID(req.GetBuildId(), "Missing required buildid."); err != nil {
		return nil, err
	}
	if len(req.GetContent()) > MaxCDashPartBytes {
		return nil, errs.New(errs.BodyTooLarge, "The file is larger than %d bytes.", MaxCDashPartBytes)
	}
	name := path.Base(req.GetFileName())
	if req.GetFileName() == "" || textProblem(name, maxCDashName) != "" || !utf8.ValidString(name) {
		return nil, errs.New(errs.BadRequest, "A file name of at most %d characters is required.", maxCDashName)
	}
	sum := md5.Sum(req.GetContent())
	if want := strings.ToLower(req.GetMd5()); want != "" && want != hex.EncodeToString(sum[:]) {
		return nil, errs.New(errs.BadRequest, "The MD5 sum of the file is %s, not %s as sent.", hex.EncodeToString(sum[:]), want)
	}
	b, err := s.store.GetBuild(ctx, req.GetBuildId())
	if err != nil {
		return nil, err
	}
	if b.CDash == nil {
		return nil, errs.New(errs.BadRequest, "Build %d was not reported through CDash.", b.ID)
	}
	who, err := s.cdashActor(ctx, b.CDash.Project)
	if err != nil {
		return nil, err
	}
	id, err := s.store.AttachFile(ctx, who, b.ID, attachment(store.AttachmentFile, name, req.GetContent()))
	if err != nil {
		return nil, err
	}
	return &ingestv1.AttachCDashFileResponse{AttachmentId: id}, nil
}

func attachment(kind, name string, content []byte) store.Attachment {
	return store.Attachment{Kind: kind, Name: name, Content: encoder.EncodeAll(content, nil), Size: int64(len(content))}
}

// cdashPut is what a part changes of its build.
func cdashPut(key store.CDashKey, p *cdash.Part) (store.CDashPart, error) {
	site := p.Site
	pkg := ""
	if p.FromSpack {
		pkg = specName(key.BuildName, true)
	}
	put := store.CDashPart{
		Key:      key,
		SpecName: specName(key.BuildName, p.FromSpack),
		Env: store.BuildEnv{Hostname: orElse(site.Hostname, key.Site), KernelVersion: site.OSRelease,
			HostOS: site.OSName, HostTarget: site.OSPlatform},
		Info: store.CDashInfo{
			Track: track(key.Stamp), Generator: site.Generator, CompilerName: site.CompilerName,
			CompilerVersion: site.CompilerVersion, OSName: site.OSName, OSRelease: site.OSRelease,
			OSVersion: site.OSVersion, OSPlatform: site.OSPlatform, Package: pkg,
		},
	}
	if err := checkInfo(put.Info, put.Env); err != nil {
		return put, err
	}
	switch p.Kind {
	case cdash.Update:
		put.Info.Revision, put.Info.UpdateStatus = clip(p.Update.Revision, maxCDashName), clip(p.Update.Status, 65536)
		put.Phase = updatePhase(p.Update)
	case cdash.Configure:
		c := p.Configure
		status := store.StatusSuccess
		if c.Status != 0 {
			status = store.PhaseStatusError
		}
		put.Phase = logPhase("configure", status, c.Log)
	case cdash.Build:
		put.Phase = eventPhase("build", p.Build.Log, p.Build.Events)
	case cdash.Test:
		if len(p.Test.Tests) > 0 || !p.FromSpack {
			tests, failed, err := storeTests(p.Test.Tests)
			if err != nil {
				return put, err
			}
			put.Tests, put.ReplaceTests = tests, true
			status := store.StatusSuccess
			if failed {
				status = store.PhaseStatusError
			}
			put.Phase = &store.PhaseUpdate{Name: "test", Status: status, OutputNull: true}
		} else {
			put.Phase = eventPhase("test", "", p.Test.Events)
		}
	case cdash.Notes:
		for _, n := range p.Notes {
			put.Attachments = append(put.Attachments, attachment(store.AttachmentNote, clip(orElse(n.Name, "notes"), 4096), []byte(n.Text)))
		}
	case cdash.Upload:
		for _, f := range p.Files {
			put.Attachments = append(put.Attachments, attachment(store.AttachmentFile, clip(orElse(f.Name, "file"), 4096), f.Content))
		}
	case cdash.Done:
	}
	return put, nil
}

func checkInfo(i store.CDashInfo, e store.BuildEnv) error {
	for _, v := range []string{i.Track, i.Generator, i.CompilerName, i.CompilerVersion, i.OSName, i.OSRelease,
		i.OSVersion, i.OSPlatform, e.Hostname} {
		if problem := textProblem(v, maxCDashName); problem != "" {
			return errs.New(errs.BadRequest, "Invalid part: the Site value %.40q %s.", v, problem)
		}
	}
	return nil
}

// track is the group a stamp names: what follows its last '-'.
func track(stamp string) string {
	if i := strings.LastIndexByte(stamp, '-'); i >= 0 {
		return clip(stamp[i+1:], maxCDashName)
	}
	return ""
}

// specName is what a build's spec row is named. Spack names a build "<request> - <pkg>"
// when it reports several packages and after the request alone otherwise: the package is
// the part after " - ", else the request's first word without its version or variants.
// Other builds go by their build name.
func specName(buildName string, fromSpack bool) string {
	name := buildName
	if fromSpack {
		if i := strings.LastIndex(name, " - "); i >= 0 {
			name = name[i+3:]
		} else if f := strings.Fields(name); len(f) > 0 {
			name = f[0]
		}
		if i := strings.IndexAny(name, "@%+~^ "); i > 0 {
			name = name[:i]
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "unnamed"
	}
	return clip(name, maxCDashName)
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// updatePhase is the Update part as a phase: its revision, and its error (Spack's
// concretization error) as an error event.
func updatePhase(u *cdash.UpdateInfo) *store.PhaseUpdate {
	var log strings.Builder
	fmt.Fprintf(&log, "Update type: %s\nCommand: %s\nRevision: %s\n", u.Type, u.Command, u.Revision)
	if u.PriorRevision != "" {
		fmt.Fprintf(&log, "Prior revision: %s\nFiles updated: %d\n", u.PriorRevision, u.Files)
	}
	if u.Status == "" {
		return logPhase("update", store.StatusSuccess, log.String())
	}
	pre := strings.TrimRight(log.String(), "\n")
	line := strings.Count(pre, "\n") + 2
	log.WriteString(u.Status + "\n")
	p := logPhase("update", store.PhaseStatusError, log.String())
	p.Events = append(p.Events, logparse.Event{Kind: logparse.Error, LineNo: line, Text: clip(u.Status, logparse.MaxTextBytes),
		PreContext: pre, Start: 1, End: line + 1})
	p.ErrorsTotal++
	return p
}

// logPhase is a phase whose events are found in its log, as for the Spack Monitor protocol.
func logPhase(name, status, log string) *store.PhaseUpdate {
	output, found := compressAndParse([]byte(log))
	return &store.PhaseUpdate{Name: name, Status: status, Output: output, OutputBytes: int64(len(log)),
		Events: found.Events, ErrorsTotal: int64(found.Errors), WarningsTotal: int64(found.Warnings)}
}

// eventPhase is a phase whose events the client found: the first logparse.MaxEvents of
// each kind are kept, with the same bounds on text and context as events found in logs.
// The phase failed when there is an error. Its output is the log when one was sent.
func eventPhase(name, log string, events []cdash.Event) *store.PhaseUpdate {
	p := &store.PhaseUpdate{Name: name, Status: store.StatusSuccess, OutputNull: log == ""}
	if log != "" {
		p.Output, p.OutputBytes = encoder.EncodeAll([]byte(log), nil), int64(len(log))
	}
	for _, e := range events {
		kind := logparse.Warning
		if e.Kind == "error" {
			kind = logparse.Error
			p.Status = store.PhaseStatusError
			p.ErrorsTotal++
			if p.ErrorsTotal > logparse.MaxEvents {
				continue
			}
		} else {
			p.WarningsTotal++
			if p.WarningsTotal > logparse.MaxEvents {
				continue
			}
		}
		pre, post := contextLines(e.PreContext, true), contextLines(e.PostContext, false)
		line := max(e.LogLine, 1)
		p.Events = append(p.Events, logparse.Event{
			Kind: kind, LineNo: line, Text: textOf(strings.TrimSpace(e.Text), logparse.MaxTextBytes),
			SourceFile: textOf(e.SourceFile, logparse.MaxTextBytes), SourceLine: max(e.SourceLine, 0),
			PreContext: strings.Join(pre, "\n"), PostContext: strings.Join(post, "\n"),
			Start: max(line-len(pre), 1), End: line + len(post) + 1, RepeatCount: max(e.RepeatCount, 0),
		})
	}
	return p
}

// contextLines keeps up to 6 context lines (the last ones before an event, the first ones
// after it), each cut at logparse.MaxContextLineBytes.
func contextLines(text string, before bool) []string {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	if len(lines) > 6 {
		if before {
			lines = lines[len(lines)-6:]
		} else {
			lines = lines[:6]
		}
	}
	for i, l := range lines {
		lines[i] = textOf(strings.TrimRight(l, " \t\r"), logparse.MaxContextLineBytes)
	}
	return lines
}

// textOf cuts s to at most n bytes on a character boundary, with NUL characters replaced:
// the stores keep text, which cannot hold NUL on PostgreSQL.
func textOf(s string, n int) string {
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// storeTests makes the stored form of a part's tests: the last of the same name wins.
func storeTests(in []cdash.TestResult) (tests []store.Test, failed bool, err error) {
	index := map[string]int{}
	for _, r := range in {
		name := textOf(strings.TrimSpace(r.Name), 1000)
		if name == "" {
			return nil, false, errs.New(errs.BadRequest, "Invalid part: a test has no name.")
		}
		status := strings.ToLower(r.Status)
		switch status {
		case store.TestPassed, store.TestNotRun:
		case store.TestFailed:
			failed = true
		default:
			return nil, false, errs.New(errs.BadRequest, "Invalid part: test %q has status %q, not passed, failed or notrun.", name, r.Status)
		}
		ms := make([]map[string]string, 0, len(r.Measurements))
		for _, m := range r.Measurements {
			ms = append(ms, map[string]string{"name": textOf(m.Name, 250), "type": textOf(m.Type, 250), "value": textOf(m.Value, 16<<10)})
		}
		measurements, err := json.Marshal(ms)
		if err != nil || len(measurements) > 1<<20 {
			return nil, false, errs.New(errs.BadRequest, "Invalid part: the measurements of test %q are too large.", name)
		}
		t := store.Test{
			Name: name, Path: textOf(r.Path, 4096), FullName: textOf(r.FullName, 4096), Command: textOf(r.Command, 65536),
			Status: status, Duration: r.Duration, ExitCode: textOf(r.ExitCode, 250), ExitValue: textOf(r.ExitValue, 250),
			CompletionStatus: textOf(r.CompletionStatus, 250), Measurements: string(measurements),
			Output: encoder.EncodeAll([]byte(r.Output), nil), OutputBytes: int64(len(r.Output)),
		}
		if i, ok := index[name]; ok {
			tests[i] = t
			continue
		}
		index[name] = len(tests)
		tests = append(tests, t)
	}
	return tests, failed, nil
}

var testStatuses = map[string]bool{"": true, store.TestPassed: true, store.TestFailed: true, store.TestNotRun: true}

// ListBuildTests returns a build's tests.
func (s *Server) ListBuildTests(ctx context.Context, req *ingestv1.ListBuildTestsRequest) (*ingestv1.ListBuildTestsResponse, error) {
	if err := checkBuildID(req.GetBuildId(), "Missing required build id."); err != nil {
		return nil, err
	}
	if !testStatuses[req.GetStatus()] {
		return nil, errs.New(errs.BadRequest, "Invalid test status. Choices are passed,failed,notrun")
	}
	tests, err := s.store.ListTests(ctx, req.GetBuildId(), req.GetStatus())
	if err != nil {
		return nil, err
	}
	resp := &ingestv1.ListBuildTestsResponse{Tests: make([]*ingestv1.BuildTest, len(tests))}
	budget := maxTestOutputsShown
	for i, t := range tests {
		m := &ingestv1.BuildTest{Name: t.Name, Path: t.Path, FullName: t.FullName, Command: t.Command, Status: t.Status,
			DurationSeconds: t.Duration, ExitCode: t.ExitCode, ExitValue: t.ExitValue, CompletionStatus: t.CompletionStatus,
			OutputBytes: t.OutputBytes}
		var ms []map[string]string
		if err := json.Unmarshal([]byte(t.Measurements), &ms); err != nil {
			return nil, fmt.Errorf("test %q of build %d: stored measurements: %w", t.Name, req.GetBuildId(), err)
		}
		for _, x := range ms {
			m.Measurements = append(m.Measurements, &ingestv1.TestMeasurement{Name: x["name"], Type: x["type"], Value: x["value"]})
		}
		out, err := decoder.DecodeAll(t.Output, nil)
		if err != nil {
			return nil, fmt.Errorf("test %q of build %d: stored output: %w", t.Name, req.GetBuildId(), err)
		}
		shown := textOf(string(out), min(maxTestOutputShown, budget))
		budget -= len(shown)
		m.Output, m.OutputTruncated = strings.ToValidUTF8(shown, "\uFFFD"), len(shown) < len(out)
		resp.Tests[i] = m
	}
	return resp, nil
}

// ListBuildAttachments returns a build's attachments without content.
func (s *Server) ListBuildAttachments(ctx context.Context, req *ingestv1.ListBuildAttachmentsRequest) (*ingestv1.ListBuildAttachmentsResponse, error) {
	if err := checkBuildID(req.GetBuildId(), "Missing required build id."); err != nil {
		return nil, err
	}
	list, err := s.store.ListAttachments(ctx, req.GetBuildId())
	if err != nil {
		return nil, err
	}
	resp := &ingestv1.ListBuildAttachmentsResponse{Attachments: make([]*ingestv1.BuildAttachment, len(list))}
	for i, a := range list {
		resp.Attachments[i] = &ingestv1.BuildAttachment{Id: a.ID, Kind: a.Kind, Name: a.Name, Size: a.Size, CreatedAt: timestamp(a.CreatedAt)}
	}
	return resp, nil
}

// GetBuildAttachment returns one attachment with its content.
func (s *Server) GetBuildAttachment(ctx context.Context, req *ingestv1.GetBuildAttachmentRequest) (*ingestv1.BuildAttachment, error) {
	if err := checkBuildID(req.GetBuildId(), "Missing required build id."); err != nil {
		return nil, err
	}
	if req.GetId() <= 0 {
		return nil, errs.New(errs.BadRequest, "An attachment id is required.")
	}
	a, err := s.store.GetAttachment(ctx, req.GetBuildId(), req.GetId())
	if err != nil {
		return nil, err
	}
	content, err := decoder.DecodeAll(a.Content, nil)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("attachment %d of build %d: stored content", a.ID, req.GetBuildId()), err)
	}
	return &ingestv1.BuildAttachment{Id: a.ID, Kind: a.Kind, Name: a.Name, Size: a.Size, Content: content, CreatedAt: timestamp(a.CreatedAt)}, nil
}
