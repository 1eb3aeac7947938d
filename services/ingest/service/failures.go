package service

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// Limits of the failure service's requests.
const (
	defaultFailures  = 50
	defaultWindow    = 7 * 24 * time.Hour
	maxWindow        = 3650 * 24 * time.Hour
	maxCauseTitle    = 250
	maxCauseLink     = 2048
	maxCausePattern  = 1024
	maxWindowTextLen = 16
)

// Failures is the failure service: fingerprint lists, build deltas and known causes.
type Failures struct {
	ingestv1.UnimplementedFailureServiceServer
	store store.Store
}

// NewFailures returns the failure service over st.
func NewFailures(st store.Store) *Failures { return &Failures{store: st} }

// FailureMethods is what each method of the failure service asks of its caller.
var FailureMethods = map[string]authn.Requirement{
	ingestv1.FailureService_ListFailures_FullMethodName:          authn.Read,
	ingestv1.FailureService_ListBuildFingerprints_FullMethodName: authn.Read,
	ingestv1.FailureService_GetBuildDelta_FullMethodName:         authn.Read,
	ingestv1.FailureService_ListKnownCauses_FullMethodName:       authn.Read,
	ingestv1.FailureService_CreateKnownCause_FullMethodName:      authn.Admin,
	ingestv1.FailureService_DeleteKnownCause_FullMethodName:      authn.Admin,
}

var windowText = regexp.MustCompile(`^(\d{1,7})([mhd])$`)

// parseWindow reads a window such as "7d", "36h" or "90m"; "" is the default.
func parseWindow(s string) (time.Duration, error) {
	if s == "" {
		return defaultWindow, nil
	}
	m := windowText.FindStringSubmatch(strings.TrimSpace(s))
	if len(s) > maxWindowTextLen || m == nil {
		return 0, errs.New(errs.BadRequest, "since must be a number and a unit (m, h or d), such as 7d")
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	if n <= 0 || time.Duration(n) > maxWindow/unit {
		return 0, errs.New(errs.BadRequest, "since must be more than nothing and at most 3650d")
	}
	return time.Duration(n) * unit, nil
}

func parseKind(s string) (logparse.Kind, error) {
	switch s {
	case "", string(logparse.Error):
		return logparse.Error, nil
	case string(logparse.Warning):
		return logparse.Warning, nil
	}
	return "", errs.New(errs.BadRequest, "kind must be error or warning")
}

// ListFailures answers the top fingerprints of the window.
func (f *Failures) ListFailures(ctx context.Context, req *ingestv1.ListFailuresRequest) (*ingestv1.ListFailuresResponse, error) {
	window, err := parseWindow(req.GetSince())
	if err != nil {
		return nil, err
	}
	kind, err := parseKind(req.GetKind())
	if err != nil {
		return nil, err
	}
	limit := int(req.GetLimit())
	if limit < 0 || limit > store.MaxFailures {
		return nil, errs.New(errs.BadRequest, "limit must be between 0 and %d", store.MaxFailures)
	}
	if limit == 0 {
		limit = defaultFailures
	}
	if fp := req.GetFingerprint(); fp != "" && !fingerprint.ValidHash(fp) {
		return nil, errs.New(errs.BadRequest, "A fingerprint is %d hexadecimal digits", fingerprint.HashLen)
	}
	since := time.Now().Add(-window)
	list, err := f.store.ListFailures(ctx, store.FailureQuery{Kind: kind, Since: since, Limit: limit, Fingerprint: req.GetFingerprint()})
	if err != nil {
		return nil, err
	}
	causes, err := f.causes(ctx)
	if err != nil {
		return nil, err
	}
	out := &ingestv1.ListFailuresResponse{Since: timestamp(since)}
	for _, x := range list {
		out.Failures = append(out.Failures, &ingestv1.Failure{
			Fingerprint: wirePrint(x.Print), Builds: x.Builds, Packages: x.Packages, Compilers: x.Compilers, Hosts: x.Hosts,
			FirstSeen: timestamp(x.FirstSeen), LastSeen: timestamp(x.LastSeen), Example: wireLink(x.Example),
			Causes: causes.of(x.Print),
		})
	}
	return out, nil
}

// ListBuildFingerprints answers a build's fingerprints.
func (f *Failures) ListBuildFingerprints(ctx context.Context, req *ingestv1.ListBuildFingerprintsRequest) (*ingestv1.ListBuildFingerprintsResponse, error) {
	list, err := f.store.BuildFingerprints(ctx, req.GetBuildId(), true)
	if err != nil {
		return nil, err
	}
	causes, err := f.causes(ctx)
	if err != nil {
		return nil, err
	}
	out := &ingestv1.ListBuildFingerprintsResponse{}
	for _, x := range list {
		out.Fingerprints = append(out.Fingerprints, &ingestv1.BuildFingerprint{
			Fingerprint: wirePrint(x.Print), Events: x.Events, OtherBuilds: x.OtherBuilds, Example: wireLink(x.Example),
			Causes: causes.of(x.Print),
		})
	}
	return out, nil
}

// GetBuildDelta compares a build with the reference the request picks.
func (f *Failures) GetBuildDelta(ctx context.Context, req *ingestv1.GetBuildDeltaRequest) (*ingestv1.BuildDelta, error) {
	q := store.ReferenceQuery{BuildID: req.GetBuildId(), By: req.GetReference(), Tag: req.GetTag()}
	switch q.By {
	case store.ReferenceDefault, store.ReferenceSameSpec:
	case store.ReferenceSameTag:
		if q.Tag = strings.TrimSpace(q.Tag); q.Tag == "" || len(q.Tag) > maxTagLen {
			return nil, errs.New(errs.BadRequest, "reference=tag needs a tag of at most %d bytes", maxTagLen)
		}
	case "build":
		if req.GetReferenceBuildId() <= 0 {
			return nil, errs.New(errs.BadRequest, "reference=build needs reference_build_id")
		}
		return f.DeltaBetween(ctx, req.GetBuildId(), req.GetReferenceBuildId())
	default:
		return nil, errs.New(errs.BadRequest, "reference must be empty, spec, tag or build")
	}
	ref, _, found, err := f.store.FindReference(ctx, q)
	if err != nil {
		return nil, err
	}
	if !found {
		return f.DeltaBetween(ctx, req.GetBuildId(), 0)
	}
	return f.DeltaBetween(ctx, req.GetBuildId(), ref.ID)
}

// DeltaBetween compares the fingerprints of build with those of build reference (none
// when 0): which errors and warnings are new, fixed and outstanding. It is the error delta
// of any two builds, for other services of ingest to reuse.
func (f *Failures) DeltaBetween(ctx context.Context, build, reference int64) (*ingestv1.BuildDelta, error) {
	mine, err := f.store.BuildFingerprints(ctx, build, false)
	if err != nil {
		return nil, err
	}
	var theirs []store.BuildFingerprint
	out := &ingestv1.BuildDelta{BuildId: build}
	if reference != 0 {
		b, err := f.store.GetBuild(ctx, reference)
		if err != nil {
			return nil, err
		}
		out.Reference = &ingestv1.BuildReference{BuildId: b.ID, Status: b.Status, SpecName: b.Spec.Name, SpecFullHash: b.Spec.FullHash}
		if theirs, err = f.store.BuildFingerprints(ctx, reference, false); err != nil {
			return nil, err
		}
	}
	causes, err := f.causes(ctx)
	if err != nil {
		return nil, err
	}
	examples := map[string]store.EventLink{}
	counts := func(list []store.BuildFingerprint) []fingerprint.Count {
		out := make([]fingerprint.Count, len(list))
		for i, x := range list {
			out[i] = x.Count
			if _, ok := examples[x.Hash]; !ok {
				examples[x.Hash] = x.Example
			}
		}
		return out
	}
	d := fingerprint.Compare(counts(mine), counts(theirs))
	entries := func(cs []fingerprint.Count, kind logparse.Kind) []*ingestv1.DeltaEntry {
		var out []*ingestv1.DeltaEntry
		for _, c := range cs {
			if c.Kind == kind {
				out = append(out, &ingestv1.DeltaEntry{Fingerprint: wirePrint(c.Print), Events: c.Events,
					Example: wireLink(examples[c.Hash]), Causes: causes.of(c.Print)})
			}
		}
		return out
	}
	out.NewErrors, out.FixedErrors, out.OutstandingErrors = entries(d.New, logparse.Error), entries(d.Fixed, logparse.Error), entries(d.Outstanding, logparse.Error)
	out.NewWarnings, out.FixedWarnings, out.OutstandingWarnings = entries(d.New, logparse.Warning), entries(d.Fixed, logparse.Warning), entries(d.Outstanding, logparse.Warning)
	return out, nil
}

// ListKnownCauses answers every known cause.
func (f *Failures) ListKnownCauses(ctx context.Context, _ *ingestv1.ListKnownCausesRequest) (*ingestv1.ListKnownCausesResponse, error) {
	list, err := f.store.ListKnownCauses(ctx)
	if err != nil {
		return nil, err
	}
	out := &ingestv1.ListKnownCausesResponse{}
	for _, c := range list {
		out.Causes = append(out.Causes, wireCause(c))
	}
	return out, nil
}

// CreateKnownCause adds a known cause.
func (f *Failures) CreateKnownCause(ctx context.Context, req *ingestv1.CreateKnownCauseRequest) (*ingestv1.KnownCause, error) {
	who, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := checkCause(req)
	if err != nil {
		return nil, err
	}
	c.CreatedBy = who.Name
	c, err = f.store.CreateKnownCause(ctx, c)
	if err != nil {
		return nil, err
	}
	return wireCause(c), nil
}

// DeleteKnownCause deletes a known cause.
func (f *Failures) DeleteKnownCause(ctx context.Context, req *ingestv1.DeleteKnownCauseRequest) (*ingestv1.DeleteKnownCauseResponse, error) {
	if err := f.store.DeleteKnownCause(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &ingestv1.DeleteKnownCauseResponse{}, nil
}

// checkCause validates a new known cause.
func checkCause(req *ingestv1.CreateKnownCauseRequest) (store.KnownCause, error) {
	c := store.KnownCause{Title: strings.TrimSpace(req.GetTitle()), Link: strings.TrimSpace(req.GetLink()),
		Pattern: req.GetPattern(), Fingerprint: strings.TrimSpace(req.GetFingerprint())}
	if c.Title == "" || len(c.Title) > maxCauseTitle || !utf8.ValidString(c.Title) {
		return c, errs.New(errs.BadRequest, "A title of at most %d bytes is required", maxCauseTitle)
	}
	if c.Link != "" {
		u, err := url.Parse(c.Link)
		if len(c.Link) > maxCauseLink || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, errs.New(errs.BadRequest, "The link must be an http or https URL of at most %d bytes", maxCauseLink)
		}
	}
	if (c.Pattern == "") == (c.Fingerprint == "") {
		return c, errs.New(errs.BadRequest, "Give either a pattern or a fingerprint")
	}
	if c.Fingerprint != "" && !fingerprint.ValidHash(c.Fingerprint) {
		return c, errs.New(errs.BadRequest, "A fingerprint is %d hexadecimal digits", fingerprint.HashLen)
	}
	if c.Pattern != "" {
		if len(c.Pattern) > maxCausePattern || !utf8.ValidString(c.Pattern) {
			return c, errs.New(errs.BadRequest, "A pattern is at most %d bytes", maxCausePattern)
		}
		if _, err := regexp.Compile(c.Pattern); err != nil {
			return c, errs.New(errs.BadRequest, "The pattern is not a regular expression (RE2): %v", err)
		}
	}
	return c, nil
}

// causeSet matches fingerprints with the known causes.
type causeSet struct {
	byPrint map[string][]*ingestv1.KnownCause
	byText  []textCause
}

type textCause struct {
	re    *regexp.Regexp
	cause *ingestv1.KnownCause
}

// causes reads the known causes; a stored pattern that no longer compiles matches nothing.
func (f *Failures) causes(ctx context.Context) (causeSet, error) {
	list, err := f.store.ListKnownCauses(ctx)
	set := causeSet{byPrint: map[string][]*ingestv1.KnownCause{}}
	if err != nil {
		return set, err
	}
	for _, c := range list {
		w := wireCause(c)
		if c.Fingerprint != "" {
			set.byPrint[c.Fingerprint] = append(set.byPrint[c.Fingerprint], w)
		} else if re, err := regexp.Compile(c.Pattern); err == nil {
			set.byText = append(set.byText, textCause{re, w})
		}
	}
	return set, nil
}

// of is the known causes of p.
func (s causeSet) of(p fingerprint.Print) []*ingestv1.KnownCause {
	out := append([]*ingestv1.KnownCause(nil), s.byPrint[p.Hash]...)
	for _, t := range s.byText {
		if t.re.MatchString(p.Normal) {
			out = append(out, t.cause)
		}
	}
	return out
}

func wirePrint(p fingerprint.Print) *ingestv1.Fingerprint {
	return &ingestv1.Fingerprint{Hash: p.Hash, Kind: string(p.Kind), Class: string(p.Class), Text: p.Normal}
}

func wireLink(l store.EventLink) *ingestv1.EventLink {
	return &ingestv1.EventLink{BuildId: l.BuildID, EventId: l.EventID, Phase: l.Phase, Line: l.LineNo, Text: l.Text}
}

func wireCause(c store.KnownCause) *ingestv1.KnownCause {
	return &ingestv1.KnownCause{Id: c.ID, Title: c.Title, Link: c.Link, Pattern: c.Pattern, Fingerprint: c.Fingerprint,
		CreatedBy: c.CreatedBy, CreatedAt: timestamp(c.CreatedAt)}
}
