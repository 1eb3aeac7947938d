// Package service implements the analysis gRPC API on top of a store.Store: it checks
// analyze requests, asks ingest whether the build exists and whose it is, and maps the
// store's rows to the wire types.
package service

import (
	"context"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/page"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// Server is the analysis service.
type Server struct {
	analysisv1.UnimplementedAnalysisServiceServer
	store  store.Store
	ingest ingestv1.IngestServiceClient
}

// New returns the service over st, asking ingest about builds.
func New(st store.Store, ingest ingestv1.IngestServiceClient) *Server {
	return &Server{store: st, ingest: ingest}
}

// asCaller makes ctx an outgoing context that carries the caller's credentials, so that
// ingest applies its own rules (private reads) to the caller and not to this service.
func asCaller(ctx context.Context) context.Context {
	in, _ := metadata.FromIncomingContext(ctx)
	for _, v := range in.Get("authorization") {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
	}
	return ctx
}

// owns reports whether who owns b by ingest's rule: by user id, or by name for a build and a
// caller that have none.
func owns(who authn.Identity, b *ingestv1.Build) bool {
	if b.GetOwnerId() != 0 || who.UserID != 0 {
		return b.GetOwnerId() == who.UserID
	}
	return b.GetOwner() == who.Name
}

// RecordAnalysis stores analyzer results for one of the caller's builds.
func (s *Server) RecordAnalysis(ctx context.Context, req *analysisv1.RecordAnalysisRequest) (*analysisv1.RecordAnalysisResponse, error) {
	who, err := authn.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkBuildID(req.GetBuildId()); err != nil {
		return nil, err
	}
	md, err := parseMetadata(req.GetMetadata())
	if err != nil {
		return nil, err
	}
	b, err := s.ingest.GetBuild(asCaller(ctx), &ingestv1.GetBuildRequest{Id: req.GetBuildId()})
	if err != nil {
		return nil, fromIngest(err)
	}
	if !owns(who, b) && !who.Admin {
		return nil, errs.New(errs.NotOwner, "You do not own the build and cannot update it.")
	}
	sum, err := s.store.Record(ctx, b.GetId(), md.resolve(b.GetSpec().GetHash(), b.GetSpec().GetFullHash()))
	if err != nil {
		return nil, err
	}
	return &analysisv1.RecordAnalysisResponse{
		Build:        &analysisv1.BuildRef{BuildId: b.GetId(), SpecFullHash: b.GetSpec().GetFullHash(), SpecName: b.GetSpec().GetName()},
		InstallFiles: int64(sum.InstallFiles), EnvironmentVariables: int64(sum.EnvironmentVariables),
		Attributes: int64(sum.Attributes), ConfigArgs: sum.ConfigArgs,
	}, nil
}

// checkBuildID tells a missing build id (0: proto3 cannot tell it from absent) from one that
// cannot exist.
func checkBuildID(id int64) error {
	if id < 0 {
		return errs.New(errs.BadRequest, "build_id must be a positive integer.")
	}
	if id == 0 {
		return errs.New(errs.BadRequest, "Missing required build_id.")
	}
	return nil
}

// needBuild checks that the build exists, asking ingest as the caller: a read about an unknown
// build is a 404, not an empty answer.
func (s *Server) needBuild(ctx context.Context, id int64) error {
	if id <= 0 {
		return errs.New(errs.BadRequest, "A build id is required.")
	}
	_, err := s.ingest.GetBuild(asCaller(ctx), &ingestv1.GetBuildRequest{Id: id})
	return fromIngest(err)
}

// fromIngest passes on what ingest answered, except a refusal of the caller's token: this
// service accepted it, so the two disagree for a moment (a key ingest has not fetched yet),
// and the caller, who cannot fix that, is told to try again rather than challenged without
// a challenge.
func fromIngest(err error) error {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return errs.WithCause(errs.Unavailable, err, "The build cannot be looked up right now; try again.")
	}
	return err
}

// ListInstallFiles lists a build's install files by path.
func (s *Server) ListInstallFiles(ctx context.Context, req *analysisv1.ListInstallFilesRequest) (*analysisv1.ListInstallFilesResponse, error) {
	if err := s.needBuild(ctx, req.GetBuildId()); err != nil {
		return nil, err
	}
	after, err := page.After(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	limit := page.Size(req.GetPageSize())
	files, err := s.store.ListInstallFiles(ctx, store.InstallFileQuery{
		BuildID: req.GetBuildId(), Type: req.GetType(), PathPrefix: req.GetPathPrefix(), After: after, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	resp := &analysisv1.ListInstallFilesResponse{InstallFiles: make([]*analysisv1.InstallFile, len(files))}
	for i, f := range files {
		resp.InstallFiles[i] = &analysisv1.InstallFile{
			Path: f.Path, Type: f.Type, Mode: f.Mode, Owner: f.Owner, Group: f.Group, Hash: f.Hash, Size: f.Size,
		}
	}
	if len(files) == limit {
		resp.NextPageToken = page.Token(files[len(files)-1].Path)
	}
	return resp, nil
}

// GetEnvironment returns a build's environment variables by name.
func (s *Server) GetEnvironment(ctx context.Context, req *analysisv1.GetEnvironmentRequest) (*analysisv1.Environment, error) {
	if err := s.needBuild(ctx, req.GetBuildId()); err != nil {
		return nil, err
	}
	vars, err := s.store.GetEnvironment(ctx, req.GetBuildId())
	if err != nil {
		return nil, err
	}
	resp := &analysisv1.Environment{Variables: make([]*analysisv1.EnvironmentVariable, len(vars))}
	for i, v := range vars {
		resp.Variables[i] = &analysisv1.EnvironmentVariable{Name: v.Name, Value: v.Value}
	}
	return resp, nil
}

// GetConfigArgs returns a build's configure arguments.
func (s *Server) GetConfigArgs(ctx context.Context, req *analysisv1.GetConfigArgsRequest) (*analysisv1.ConfigArgs, error) {
	if err := s.needBuild(ctx, req.GetBuildId()); err != nil {
		return nil, err
	}
	args, ok, err := s.store.GetConfigArgs(ctx, req.GetBuildId())
	if err != nil {
		return nil, err
	}
	return &analysisv1.ConfigArgs{ConfigArgs: args, Recorded: ok}, nil
}

// ListAttributes lists the results of one build, or of every build of one spec.
func (s *Server) ListAttributes(ctx context.Context, req *analysisv1.ListAttributesRequest) (*analysisv1.ListAttributesResponse, error) {
	after, err := page.AfterID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	var builds []int64
	switch {
	case req.GetBuildId() > 0 && req.GetSpecId() > 0:
		return nil, errs.New(errs.BadRequest, "Name a build id or a spec id, not both.")
	case req.GetBuildId() > 0:
		if err := s.needBuild(ctx, req.GetBuildId()); err != nil {
			return nil, err
		}
		builds = []int64{req.GetBuildId()}
	case req.GetSpecId() > 0:
		if builds, err = s.specBuilds(ctx, req.GetSpecId()); err != nil {
			return nil, err
		}
	default:
		return nil, errs.New(errs.BadRequest, "A spec id is required.")
	}
	limit := page.Size(req.GetPageSize())
	if req.GetSpecId() > 0 && req.GetPageSize() <= 0 {
		// The upstream look-up by spec gave every attribute at once; its clients expect
		// as many as a page may hold.
		limit = page.MaxSize
	}
	attrs, err := s.store.ListAttributes(ctx, store.AttributeQuery{
		BuildIDs: builds, Analyzer: req.GetAnalyzer(), Name: req.GetName(), AfterID: after, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	resp := &analysisv1.ListAttributesResponse{Attributes: make([]*analysisv1.Attribute, len(attrs))}
	for i, a := range attrs {
		resp.Attributes[i] = &analysisv1.Attribute{Id: a.ID, BuildId: a.BuildID, InstallFile: a.InstallFile, Analyzer: a.Analyzer, Name: a.Name,
			Preview: preview(a.Preview), Binary: a.Binary}
	}
	if len(attrs) == limit {
		resp.NextPageToken = page.IDToken(attrs[len(attrs)-1].ID)
	}
	return resp, nil
}

// specBuilds asks ingest for the ids of every build of a spec.
func (s *Server) specBuilds(ctx context.Context, specID int64) ([]int64, error) {
	ctx = asCaller(ctx)
	var ids []int64
	req := &ingestv1.ListBuildsRequest{SpecId: specID, PageSize: page.MaxSize}
	for {
		builds, err := s.ingest.ListBuilds(ctx, req)
		if err != nil {
			return nil, fromIngest(err)
		}
		for _, b := range builds.GetBuilds() {
			ids = append(ids, b.GetId())
		}
		if builds.GetNextPageToken() == "" {
			return ids, nil
		}
		req.PageToken = builds.GetNextPageToken()
	}
}

// GetAttributeValue returns one result's value.
func (s *Server) GetAttributeValue(ctx context.Context, req *analysisv1.GetAttributeValueRequest) (*analysisv1.AttributeValue, error) {
	if req.GetId() <= 0 {
		return nil, errs.New(errs.BadRequest, "An attribute id is required.")
	}
	a, err := s.store.GetAttribute(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	if a.Value == nil && a.BinaryValue == nil && a.JSONValue == nil {
		return nil, errs.New(errs.NotFound, "This attribute does not have an associated value.")
	}
	return &analysisv1.AttributeValue{Id: a.ID, Value: a.Value, BinaryValue: a.BinaryValue, JsonValue: a.JSONValue}, nil
}

// preview cuts a value's start to store.PreviewLength characters, marking a cut value.
func preview(start string) string {
	if utf8.RuneCountInString(start) <= store.PreviewLength {
		return start
	}
	r := []rune(start)
	return string(r[:store.PreviewLength]) + "…"
}
