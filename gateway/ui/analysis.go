package ui

import (
	"net/http"
	"strconv"
	"strings"

	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// analysisPageSize is how many install files, and how many attributes, one page lists.
const analysisPageSize = 200

type analysisData struct {
	Build      *ingestv1.Build
	ConfigArgs *analysisv1.ConfigArgs
	Env        []*analysisv1.EnvironmentVariable
	// Dir is the install-file folder shown ("" for the prefix's root); Parents the
	// folders above it, for the breadcrumb.
	Dir       string
	Parents   []crumb
	Files     []*analysisv1.InstallFile
	NextFiles string
	Attrs     []*analysisv1.Attribute
	NextAttrs string
}

type crumb struct{ Name, Dir string }

// queryID reads a positive id from the query parameter name.
func queryID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, BadRequest("%s must be a build id (a positive number), not %q.", name, v)
	}
	return id, nil
}

func analysisPage(r *http.Request, c Clients) (*Page, error) {
	id, err := queryID(r, "build")
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	q := r.URL.Query()
	b, err := c.Ingest.GetBuild(ctx, &ingestv1.GetBuildRequest{Id: id})
	if err != nil {
		return nil, err
	}
	d := analysisData{Build: b, Dir: strings.Trim(q.Get("dir"), "/")}
	if d.ConfigArgs, err = c.Analysis.GetConfigArgs(ctx, &analysisv1.GetConfigArgsRequest{BuildId: id}); err != nil {
		return nil, err
	}
	env, err := c.Analysis.GetEnvironment(ctx, &analysisv1.GetEnvironmentRequest{BuildId: id})
	if err != nil {
		return nil, err
	}
	d.Env = env.GetVariables()
	prefix := ""
	if d.Dir != "" {
		prefix = d.Dir + "/"
		parts := strings.Split(d.Dir, "/")
		for i := range parts {
			d.Parents = append(d.Parents, crumb{Name: parts[i], Dir: strings.Join(parts[:i+1], "/")})
		}
	}
	files, err := c.Analysis.ListInstallFiles(ctx, &analysisv1.ListInstallFilesRequest{BuildId: id, PathPrefix: prefix,
		PageSize: analysisPageSize, PageToken: q.Get("files")})
	if err != nil {
		return nil, err
	}
	d.Files = files.GetInstallFiles()
	if tok := files.GetNextPageToken(); tok != "" {
		d.NextFiles = withParam(q, "files", tok)
	}
	attrs, err := c.Analysis.ListAttributes(ctx, &analysisv1.ListAttributesRequest{BuildId: id, PageSize: analysisPageSize, PageToken: q.Get("attrs")})
	if err != nil {
		return nil, err
	}
	d.Attrs = attrs.GetAttributes()
	if tok := attrs.GetNextPageToken(); tok != "" {
		d.NextAttrs = withParam(q, "attrs", tok)
	}
	return &Page{Template: "analysis", Title: "Analysis of build " + strconv.FormatInt(id, 10), Data: d}, nil
}

type analysisDiffData struct {
	A, B       string
	BuildA     *ingestv1.Build
	BuildB     *ingestv1.Build
	Diff       *analysisv1.AnalysisDiff
	FirstPage  bool
	NextChunks string
}

func analysisDiffPage(r *http.Request, c Clients) (*Page, error) {
	q := r.URL.Query()
	d := analysisDiffData{A: q.Get("a"), B: q.Get("b"), FirstPage: q.Get("page") == ""}
	if d.A == "" || d.B == "" {
		return &Page{Template: "analysisdiff", Title: "Compare two builds' analyses", Data: d}, nil
	}
	a, err := queryID(r, "a")
	if err != nil {
		return nil, err
	}
	b, err := queryID(r, "b")
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	if d.BuildA, err = c.Ingest.GetBuild(ctx, &ingestv1.GetBuildRequest{Id: a}); err != nil {
		return nil, err
	}
	if d.BuildB, err = c.Ingest.GetBuild(ctx, &ingestv1.GetBuildRequest{Id: b}); err != nil {
		return nil, err
	}
	if d.Diff, err = c.Analysis.DiffAnalysis(ctx, &analysisv1.DiffAnalysisRequest{A: a, B: b, PageSize: analysisPageSize, PageToken: q.Get("page")}); err != nil {
		return nil, err
	}
	if tok := d.Diff.GetNextPageToken(); tok != "" {
		d.NextChunks = withParam(q, "page", tok)
	}
	return &Page{Template: "analysisdiff", Title: "Analysis diff of builds " + d.A + " and " + d.B, Data: d}, nil
}
