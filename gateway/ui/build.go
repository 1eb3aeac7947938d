package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

const (
	// pinnedErrors is how many first errors the top of a failed build's page shows.
	pinnedErrors = 5
	// eventListSize is how many errors, and how many warnings, the build page lists.
	eventListSize = 100
	// failedTestsShown is how many failed tests the build page lists, and
	// testOutputShown how many bytes of the end of each one's output.
	failedTestsShown = 100
	testOutputShown  = 4096
	// badgesPerSpec is how many builds of a linked spec a table shows.
	badgesPerSpec = 5
	// maxLinkedSpecs is how many dependents a spec page lists.
	maxLinkedSpecs = 500
)

type buildData struct {
	Build    *ingestv1.Build
	Pinned   []*ingestv1.BuildEvent
	Errors   []*ingestv1.BuildEvent
	Warnings []*ingestv1.BuildEvent
	// MoreErrors and MoreWarnings say that the lists go on (in the JSON API).
	MoreErrors, MoreWarnings bool
	Deps                     []depBuilds
	Duration                 string
	Running                  bool
	Failures                 buildFailures
	// Reported is set for a build reported by CDash or JUnit, which has tests; Failed lists
	// its failed tests (at most failedTestsShown), each output cut to its end.
	Reported    bool
	Failed      []*ingestv1.BuildTest
	FailedTotal int
}

// depBuilds is a spec linked to the one shown, with its newest builds.
type depBuilds struct {
	Link   *ingestv1.SpecLink
	Builds []*ingestv1.BuildStatus
}

// pathID reads a positive numeric id from the path value name.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound("There is no build %q: a build id is a positive number.", r.PathValue(name))
	}
	return id, nil
}

func buildPage(r *http.Request, c Clients) (*Page, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	b, err := c.Ingest.GetBuild(ctx, &ingestv1.GetBuildRequest{Id: id})
	if err != nil {
		return nil, err
	}
	d := buildData{Build: b, Running: b.GetFinishedAt() == nil && b.GetStatus() == "NOTRUN"}
	if f := b.GetFinishedAt(); f != nil && b.GetCreatedAt() != nil {
		d.Duration = f.AsTime().Sub(b.GetCreatedAt().AsTime()).Round(time.Second).String()
	}
	errs, err := c.Ingest.ListBuildEvents(ctx, &ingestv1.ListBuildEventsRequest{BuildId: id, Kind: "error", PageSize: eventListSize})
	if err != nil {
		return nil, err
	}
	d.Errors, d.MoreErrors = errs.GetEvents(), errs.GetNextPageToken() != "" || errs.GetEventsCapped()
	d.Pinned = d.Errors[:min(len(d.Errors), pinnedErrors)]
	warns, err := c.Ingest.ListBuildEvents(ctx, &ingestv1.ListBuildEventsRequest{BuildId: id, Kind: "warning", PageSize: eventListSize})
	if err != nil {
		return nil, err
	}
	d.Warnings, d.MoreWarnings = warns.GetEvents(), warns.GetNextPageToken() != "" || warns.GetEventsCapped()
	if err := readFailedTests(r, c, &d); err != nil {
		return nil, err
	}
	if d.Failures, err = readBuildFailures(ctx, c, id); err != nil {
		return nil, err
	}
	if d.Deps, err = dependencyBuilds(r, c, b.GetSpec()); err != nil {
		return nil, err
	}
	return &Page{Template: "build", Title: b.GetSpec().GetName() + "@" + b.GetSpec().GetVersion() + " build " + strconv.FormatInt(id, 10), Data: d}, nil
}

// readFailedTests reads the failed tests of a build that CDash or JUnit reported.
func readFailedTests(r *http.Request, c Clients, d *buildData) error {
	switch d.Build.GetSource() {
	case "cdash", "junit":
	default:
		return nil
	}
	d.Reported = true
	tests, err := c.Ingest.ListBuildTests(r.Context(), &ingestv1.ListBuildTestsRequest{BuildId: d.Build.GetId(), Status: "failed"})
	if err != nil {
		return err
	}
	d.FailedTotal = len(tests.GetTests())
	d.Failed = tests.GetTests()[:min(d.FailedTotal, failedTestsShown)]
	for _, t := range d.Failed {
		if out := t.GetOutput(); len(out) > testOutputShown {
			// The end of a failed test's output says most about why; cut at a line start.
			out = out[len(out)-testOutputShown:]
			if i := strings.IndexByte(out, '\n'); i >= 0 {
				out = out[i+1:]
			}
			t.Output = "…\n" + strings.ToValidUTF8(out, "")
		}
	}
	return nil
}

// dependencyBuilds lists the direct dependencies of a build's spec with their builds.
func dependencyBuilds(r *http.Request, c Clients, s *ingestv1.BuildSpec) ([]depBuilds, error) {
	spec, err := c.Ingest.GetSpec(r.Context(), &ingestv1.GetSpecRequest{FullHash: s.GetFullHash(), SpackVersion: s.GetSpackVersion()})
	if err != nil {
		return nil, err
	}
	return withBuilds(r, c, spec.GetDependencies())
}

// withBuilds gives each linked spec its newest builds, read in one call.
func withBuilds(r *http.Request, c Clients, links []*ingestv1.SpecLink) ([]depBuilds, error) {
	if len(links) == 0 {
		return nil, nil
	}
	hashes := make([]string, len(links))
	for i, l := range links {
		hashes[i] = l.GetFullHash()
	}
	resp, err := c.Ingest.ListSpecBuilds(r.Context(), &ingestv1.ListSpecBuildsRequest{FullHashes: hashes, PerSpec: badgesPerSpec})
	if err != nil {
		return nil, err
	}
	byHash := map[string][]*ingestv1.BuildStatus{}
	for _, sb := range resp.GetSpecs() {
		byHash[sb.GetFullHash()] = sb.GetBuilds()
	}
	out := make([]depBuilds, len(links))
	for i, l := range links {
		out[i] = depBuilds{Link: l, Builds: byHash[l.GetFullHash()]}
	}
	return out, nil
}
