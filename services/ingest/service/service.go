// Package service implements the ingest gRPC API on top of a store.Store: it validates
// requests, parses spec documents and logs, compresses outputs, and maps results to the
// wire types.
package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/budget"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/pkg/tags"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/watch"
)

// Field limits: generous for real Spack values, small enough that a client cannot make
// rows of arbitrary size.
const (
	maxVersionLen  = 250
	maxHashLen     = 100
	maxEnvFieldLen = 250
	maxPhaseName   = 500
	maxTagLen      = 100
	maxTags        = 100
)

// Server is the ingest service.
type Server struct {
	ingestv1.UnimplementedIngestServiceServer
	store store.Store
	// dayCounts keeps CountBuildsByDay's answers for a few seconds.
	dayCounts *dayCountCache
	// openProjects are the CDash projects that take submissions without a token.
	openProjects map[string]bool
	// changes, when set, hears of each build this process changes (WithChanges).
	changes *watch.Hub
	// reads bounds the memory of the log reads in flight; nil when unbounded (WithReadBudget).
	reads *budget.Bytes
}

// Option sets up a Server.
type Option func(*Server)

// WithOpenCDashProjects names the CDash projects that take submissions without a token,
// owned by the anonymous user (SPACKMON_CDASH_OPEN_PROJECTS).
func WithOpenCDashProjects(names []string) Option {
	return func(s *Server) {
		for _, n := range names {
			if n = strings.TrimSpace(n); n != "" {
				s.openProjects[n] = true
			}
		}
	}
}

// New returns the service over st.
func New(st store.Store, opts ...Option) *Server {
	s := &Server{store: st, dayCounts: newDayCountCache(), openProjects: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// actor is the caller the interceptors established (authn.Caller), as the store knows it.
func actor(ctx context.Context) (store.Actor, error) {
	id, err := authn.Caller(ctx)
	if err != nil {
		return store.Actor{}, err
	}
	return store.Actor{Name: id.Name, UserID: id.UserID, Admin: id.Admin}, nil
}

// TombstoneOwnBuilds shows the web session user's builds as owned by deleted-user-ID, the
// name no user can take back, before that user is deleted.
func (s *Server) TombstoneOwnBuilds(ctx context.Context, _ *ingestv1.TombstoneOwnBuildsRequest) (*ingestv1.TombstoneOwnBuildsResponse, error) {
	id, err := authn.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !id.WebSession || id.UserID <= 0 {
		return nil, errs.New(errs.Forbidden, "Only a logged-in user's web session may do this.")
	}
	name := TombstoneName(id.UserID)
	n, err := s.store.RenameOwner(ctx, id.UserID, name)
	if err != nil {
		return nil, err
	}
	return &ingestv1.TombstoneOwnBuildsResponse{Owner: name, Builds: int64(n)}, nil
}

// TombstoneName is the owner shown for the builds of a user who deleted their account.
func TombstoneName(userID int64) string { return "deleted-user-" + strconv.FormatInt(userID, 10) }

// NewSpec stores a spec document.
func (s *Server) NewSpec(ctx context.Context, req *ingestv1.NewSpecRequest) (*ingestv1.NewSpecResponse, error) {
	if _, err := actor(ctx); err != nil {
		return nil, err
	}
	if err := checkSpackVersion(req.GetSpackVersion()); err != nil {
		return nil, err
	}
	if len(req.GetSpec()) == 0 {
		return nil, errs.New(errs.BadRequest, "A spec document is required")
	}
	res, err := s.putSpec(ctx, req.GetSpackVersion(), req.GetSpec())
	if err != nil {
		return nil, err
	}
	specs := make(map[string]string, len(res.Deps))
	for _, d := range res.Deps {
		specs[d.Name] = d.FullHash
	}
	return &ingestv1.NewSpecResponse{
		Spec: &ingestv1.SpecSummary{
			FullHash:     res.FullHash,
			Name:         res.Name,
			Version:      res.Version,
			SpackVersion: res.SpackVersion,
			Specs:        specs,
		},
		Created: res.Created,
	}, nil
}

func (s *Server) putSpec(ctx context.Context, spackVersion string, doc []byte) (store.SpecResult, error) {
	parsed, err := spackspec.Parse(doc)
	if err != nil {
		return store.SpecResult{}, errs.New(errs.BadRequest, "Invalid spec document: %v", err)
	}
	if err := checkNodes(parsed); err != nil {
		return store.SpecResult{}, err
	}
	return s.store.PutSpec(ctx, spackVersion, parsed)
}

// What the store keeps of a spec node, in characters: checked before any work is done with
// a value, and named as the client named it.
const (
	maxSpecValue  = 250     // names, versions, hashes, arch and compiler values
	maxTargetList = 65536   // a target's features or parents, as JSON text
	maxParameters = 1 << 20 // the parameters object, as JSON text
)

// checkNodes refuses the values the store cannot keep: too long, or with a NUL character.
func checkNodes(doc *spackspec.Document) error {
	for i := range doc.Nodes {
		if field, problem := nodeProblem(&doc.Nodes[i]); problem != "" {
			return errs.New(errs.BadRequest, "Invalid spec document: node %d: %s %s.", i, field, problem)
		}
	}
	return nil
}

// nodeProblem names the first field of n the store cannot keep, and why; "" when none.
func nodeProblem(n *spackspec.Node) (field, problem string) {
	for _, f := range [...]struct{ name, value string }{
		{"name", n.Name}, {"version", n.Version}, {"namespace", n.Namespace}, {"hash", n.Hash},
		{"full_hash", n.FullHash}, {"build_hash", n.BuildHash}, {"package_hash", n.PackageHash},
	} {
		if problem := textProblem(f.value, maxSpecValue); problem != "" {
			return f.name, problem
		}
	}
	if problem := textProblem(string(n.Parameters), maxParameters); problem != "" {
		return "parameters", problem
	}
	if n.Arch != nil {
		if field, problem := archProblem(n.Arch); problem != "" {
			return field, problem
		}
	}
	if c := n.Compiler; c != nil {
		if problem := textProblem(c.Name, maxSpecValue); problem != "" {
			return "compiler.name", problem
		}
		if problem := textProblem(c.Version, maxSpecValue); problem != "" {
			return "compiler.version", problem
		}
	}
	for j, d := range n.Deps {
		for _, f := range [...]struct{ name, value string }{{"name", d.Name}, {"hash", d.Ref}} {
			if problem := textProblem(f.value, maxSpecValue); problem != "" {
				return fmt.Sprintf("dependencies[%d].%s", j, f.name), problem
			}
		}
		if problem := typesProblem(d.Types); problem != "" {
			return fmt.Sprintf("dependencies[%d].type", j), problem
		}
	}
	return "", ""
}

func archProblem(a *spackspec.Arch) (field, problem string) {
	for _, f := range [...]struct{ name, value string }{
		{"arch.platform", a.Platform}, {"arch.platform_os", a.PlatformOS},
		{"arch.target.name", a.Target.Name}, {"arch.target.vendor", a.Target.Vendor},
	} {
		if problem := textProblem(f.value, maxSpecValue); problem != "" {
			return f.name, problem
		}
	}
	if problem := listProblem(a.Target.Features); problem != "" {
		return "arch.target.features", problem
	}
	if problem := listProblem(a.Target.Parents); problem != "" {
		return "arch.target.parents", problem
	}
	return "", ""
}

// textProblem says what keeps v from being stored in a column of max characters, or "".
func textProblem(v string, max int) string {
	switch {
	case hasNUL(v):
		return "has a NUL character"
	case longerThan(v, max):
		return fmt.Sprintf("is longer than %d characters", max)
	}
	return ""
}

// longerThan reports whether v has more than max characters, the unit of every length
// limit the store's columns and the messages state.
func longerThan(v string, max int) bool {
	return len(v) > max && utf8.RuneCountInString(v) > max
}

// typesProblem checks dependency types, which the store keeps joined by commas.
func typesProblem(types []string) string {
	size := 0
	for _, t := range types {
		if hasNUL(t) {
			return "has a NUL character"
		}
		size += len(t) + 1
	}
	if size > maxSpecValue {
		return textProblem(strings.Join(types, ","), maxSpecValue)
	}
	return ""
}

// listProblem checks a target's features or parents, which the store keeps as JSON text.
// Escaping makes a character at most six, so only a list near the limit is encoded to
// measure it.
func listProblem(items []string) string {
	size := 2
	for _, it := range items {
		if hasNUL(it) {
			return "has a NUL character"
		}
		size += 6*len(it) + 3
	}
	if size <= maxTargetList {
		return ""
	}
	text, err := json.Marshal(items)
	if err != nil || utf8.RuneCount(text) > maxTargetList {
		return fmt.Sprintf("is longer than %d characters as JSON", maxTargetList)
	}
	return ""
}

func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// checkText refuses a value a database cannot store as text.
func checkText(field, v string) error {
	if hasNUL(v) {
		return errs.New(errs.BadRequest, "%s must not contain NUL characters.", field)
	}
	return nil
}

func checkSpackVersion(v string) error {
	if strings.TrimSpace(v) == "" {
		return errs.New(errs.BadRequest, "A spack_version string is required")
	}
	if longerThan(v, maxVersionLen) {
		return errs.New(errs.BadRequest, "spack_version is longer than %d characters", maxVersionLen)
	}
	return checkText("spack_version", v)
}

// NewBuild gets or creates a build.
func (s *Server) NewBuild(ctx context.Context, req *ingestv1.NewBuildRequest) (*ingestv1.NewBuildResponse, error) {
	who, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	nb, err := newBuild(req, who)
	if err != nil {
		return nil, err
	}
	if len(req.GetSpec()) > 0 {
		if _, err := s.putSpec(ctx, req.GetSpackVersion(), req.GetSpec()); err != nil {
			return nil, err
		}
	}
	res, err := s.store.GetOrCreateBuild(ctx, nb)
	if err != nil {
		return nil, err
	}
	return &ingestv1.NewBuildResponse{
		BuildCreated:            res.BuildCreated,
		BuildEnvironmentCreated: res.EnvCreated,
		Build:                   buildRef(res.Build),
	}, nil
}

func newBuild(req *ingestv1.NewBuildRequest, who store.Actor) (store.NewBuild, error) {
	required := []struct{ name, value string }{
		{"full_hash", req.GetFullHash()}, {"spack_version", req.GetSpackVersion()}, {"hostname", req.GetHostname()},
		{"kernel_version", req.GetKernelVersion()}, {"host_os", req.GetHostOs()}, {"host_target", req.GetHostTarget()},
		{"platform", req.GetPlatform()},
	}
	for _, f := range required {
		if strings.TrimSpace(f.value) == "" {
			return store.NewBuild{}, errs.New(errs.BadRequest, "Missing required build environment data.")
		}
		if longerThan(f.value, maxEnvFieldLen) {
			return store.NewBuild{}, errs.New(errs.BadRequest, "Build environment values must be at most %d characters.", maxEnvFieldLen)
		}
		if err := checkText(f.name, f.value); err != nil {
			return store.NewBuild{}, err
		}
	}
	if longerThan(req.GetFullHash(), maxHashLen) {
		return store.NewBuild{}, errs.New(errs.BadRequest, "full_hash is longer than %d characters", maxHashLen)
	}
	tags, err := cleanTags(req.GetTags())
	if err != nil {
		return store.NewBuild{}, err
	}
	return store.NewBuild{
		FullHash:     req.GetFullHash(),
		SpackVersion: req.GetSpackVersion(),
		Env: store.BuildEnv{
			Hostname:      req.GetHostname(),
			KernelVersion: req.GetKernelVersion(),
			HostOS:        req.GetHostOs(),
			HostTarget:    req.GetHostTarget(),
			Platform:      req.GetPlatform(),
		},
		Owner:   who.Name,
		OwnerID: who.UserID,
		Tags:    tags,
	}, nil
}

// cleanTags keeps the distinct tags (tags.Distinct) and refuses the build when one is too
// long or not text, or when there are too many.
func cleanTags(raw []string) ([]string, error) {
	names, _ := tags.Distinct(raw)
	for _, t := range names {
		if longerThan(t, maxTagLen) {
			return nil, errs.New(errs.BadRequest, "Tags must be at most %d characters.", maxTagLen)
		}
		if err := checkText("tags", t); err != nil {
			return nil, err
		}
	}
	if len(names) > maxTags {
		return nil, errs.New(errs.BadRequest, "A build takes at most %d tags.", maxTags)
	}
	if len(names) == 0 {
		return nil, nil
	}
	return names, nil
}

var buildStatuses = map[string]bool{
	store.StatusCancelled: true,
	store.StatusSuccess:   true,
	store.StatusNotRun:    true,
	store.StatusFailed:    true,
}

// UpdateBuildStatus sets a build's status.
func (s *Server) UpdateBuildStatus(ctx context.Context, req *ingestv1.UpdateBuildStatusRequest) (*ingestv1.UpdateBuildStatusResponse, error) {
	who, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkBuildID(req.GetBuildId(), "Missing required build id."); err != nil {
		return nil, err
	}
	if !buildStatuses[req.GetStatus()] {
		return nil, errs.New(errs.BadRequest, "Invalid status. Choices are CANCELLED,SUCCESS,NOTRUN,FAILED")
	}
	ref, err := s.store.UpdateBuildStatus(ctx, who, req.GetBuildId(), req.GetStatus())
	if err != nil {
		return nil, err
	}
	s.changed(ref.ID)
	return &ingestv1.UpdateBuildStatusResponse{Build: buildRef(ref)}, nil
}

// checkBuildID refuses an id that names no build: 0 is what proto3 makes of an absent id,
// answered with the protocol's message for a missing one; a negative id is invalid.
func checkBuildID(id int64, missing string) error {
	if id < 0 {
		return errs.New(errs.BadRequest, "build_id must be a positive integer.")
	}
	if id == 0 {
		return errs.New(errs.BadRequest, "%s", missing)
	}
	return nil
}

func buildRef(r store.BuildRef) *ingestv1.BuildRef {
	return &ingestv1.BuildRef{BuildId: r.ID, SpecFullHash: r.SpecFullHash, SpecName: r.SpecName}
}
