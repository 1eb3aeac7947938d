// Package service implements the ingest gRPC API on top of a store.Store: it validates
// requests, parses spec documents and logs, compresses outputs, and maps results to the
// wire types.
package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/respcode"
	"github.com/spackmon/spackmon/pkg/spackspec"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/store"
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
}

// New returns the service over st.
func New(st store.Store) *Server {
	return &Server{store: st}
}

// actor is the caller the interceptors established. A call that reached a service
// without one is a wiring mistake, answered as unauthenticated rather than trusted.
func actor(ctx context.Context) (store.Actor, error) {
	id, ok := authn.FromContext(ctx)
	if !ok || id.Name == "" {
		return store.Actor{}, errs.New(errs.Unauthenticated, "Authentication is required.")
	}
	return store.Actor{Name: id.Name, Admin: id.Admin}, nil
}

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
	if res.Created {
		respcode.Created(ctx)
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

// specField is a value of a node, named by its place in the document.
type specField struct {
	name  string
	value string
	max   int
}

// checkNodes refuses the values the store cannot keep: too long, or with a NUL character.
func checkNodes(doc *spackspec.Document) error {
	for i, n := range doc.Nodes {
		for _, f := range nodeFields(&n) {
			if hasNUL(f.value) {
				return errs.New(errs.BadRequest, "Invalid spec document: node %d: %s has a NUL character.", i, f.name)
			}
			if len(f.value) > f.max && utf8.RuneCountInString(f.value) > f.max {
				return errs.New(errs.BadRequest, "Invalid spec document: node %d: %s is longer than %d characters.", i, f.name, f.max)
			}
		}
		if n.Arch != nil {
			for _, l := range []struct {
				name  string
				items []string
			}{{"arch.target.features", n.Arch.Target.Features}, {"arch.target.parents", n.Arch.Target.Parents}} {
				if err := checkTargetList(i, l.name, l.items); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func nodeFields(n *spackspec.Node) []specField {
	fields := []specField{
		{"name", n.Name, maxSpecValue}, {"version", n.Version, maxSpecValue}, {"namespace", n.Namespace, maxSpecValue},
		{"hash", n.Hash, maxSpecValue}, {"full_hash", n.FullHash, maxSpecValue}, {"build_hash", n.BuildHash, maxSpecValue},
		{"package_hash", n.PackageHash, maxSpecValue}, {"parameters", string(n.Parameters), maxParameters},
	}
	if a := n.Arch; a != nil {
		fields = append(fields, specField{"arch.platform", a.Platform, maxSpecValue}, specField{"arch.platform_os", a.PlatformOS, maxSpecValue},
			specField{"arch.target.name", a.Target.Name, maxSpecValue}, specField{"arch.target.vendor", a.Target.Vendor, maxSpecValue})
	}
	if c := n.Compiler; c != nil {
		fields = append(fields, specField{"compiler.name", c.Name, maxSpecValue}, specField{"compiler.version", c.Version, maxSpecValue})
	}
	for j, d := range n.Deps {
		at := fmt.Sprintf("dependencies[%d].", j)
		fields = append(fields, specField{at + "name", d.Name, maxSpecValue}, specField{at + "hash", d.Ref, maxSpecValue},
			specField{at + "type", strings.Join(d.Types, ","), maxSpecValue})
	}
	return fields
}

// checkTargetList refuses a list the store could not keep as JSON text. Escaping makes a
// character at most six, so only a list near the limit is encoded to measure it.
func checkTargetList(node int, name string, items []string) error {
	size := 2
	for _, it := range items {
		if hasNUL(it) {
			return errs.New(errs.BadRequest, "Invalid spec document: node %d: %s has a NUL character.", node, name)
		}
		size += 6*len(it) + 3
	}
	if size <= maxTargetList {
		return nil
	}
	text, err := json.Marshal(items)
	if err != nil || utf8.RuneCount(text) > maxTargetList {
		return errs.New(errs.BadRequest, "Invalid spec document: node %d: %s is longer than %d characters as JSON.", node, name, maxTargetList)
	}
	return nil
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
	if len(v) > maxVersionLen {
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
	if res.BuildCreated {
		respcode.Created(ctx)
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
		if len(f.value) > maxEnvFieldLen {
			return store.NewBuild{}, errs.New(errs.BadRequest, "Build environment values must be at most %d characters.", maxEnvFieldLen)
		}
		if err := checkText(f.name, f.value); err != nil {
			return store.NewBuild{}, err
		}
	}
	if len(req.GetFullHash()) > maxHashLen {
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
		Owner: who.Name,
		Tags:  tags,
	}, nil
}

// cleanTags trims tags, drops empty ones and duplicates (case-insensitively).
func cleanTags(raw []string) ([]string, error) {
	var tags []string
	seen := make(map[string]bool, len(raw))
	for _, t := range raw {
		t = strings.TrimSpace(t)
		key := strings.ToLower(t)
		if t == "" || seen[key] {
			continue
		}
		if len(t) > maxTagLen {
			return nil, errs.New(errs.BadRequest, "Tags must be at most %d characters.", maxTagLen)
		}
		if err := checkText("tags", t); err != nil {
			return nil, err
		}
		seen[key] = true
		tags = append(tags, t)
	}
	if len(tags) > maxTags {
		return nil, errs.New(errs.BadRequest, "A build takes at most %d tags.", maxTags)
	}
	return tags, nil
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
