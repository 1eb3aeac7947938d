package ui

import (
	"net/http"
	"strconv"
	"time"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

const (
	// pinnedErrors is how many first errors the top of a failed build's page shows.
	pinnedErrors = 5
	// eventListSize is how many errors, and how many warnings, the build page lists.
	eventListSize = 100
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
}

// depBuilds is a direct dependency of the build's spec with the builds made of it.
type depBuilds struct {
	Link   *ingestv1.SpecLink
	Builds []*ingestv1.Build
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
	if d.Deps, err = dependencyBuilds(r, c, b.GetSpec()); err != nil {
		return nil, err
	}
	return &Page{Template: "build", Title: b.GetSpec().GetName() + "@" + b.GetSpec().GetVersion() + " build " + strconv.FormatInt(id, 10), Data: d}, nil
}

// dependencyBuilds lists the direct dependencies of a build's spec with their builds.
func dependencyBuilds(r *http.Request, c Clients, s *ingestv1.BuildSpec) ([]depBuilds, error) {
	spec, err := c.Ingest.GetSpec(r.Context(), &ingestv1.GetSpecRequest{FullHash: s.GetFullHash(), SpackVersion: s.GetSpackVersion()})
	if err != nil {
		return nil, err
	}
	deps := make([]depBuilds, len(spec.GetDependencies()))
	for i, l := range spec.GetDependencies() {
		deps[i] = depBuilds{Link: l}
	}
	return deps, nil
}
