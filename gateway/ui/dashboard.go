package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// dashboardPageSize is how many builds one page of the table shows.
const dashboardPageSize = 50

// dashboardFilters are the query parameters of / that filter the builds, each shown as a
// chip that removes it.
var dashboardFilters = []string{"status", "tag", "owner", "spack_version", "host", "package"}

// dashboardSorts are the orders the table's headers offer (the sort parameter).
var dashboardSorts = []string{"updated", "name", "status"}

// filterChip is one active filter.
type filterChip struct {
	Key, Value string
	// Remove is the URL of the same view without this filter.
	Remove string
}

type dashboardData struct {
	Query    url.Values
	Q        string
	Status   string
	Sort     string
	Chips    []filterChip
	Statuses []string
	Builds   []*ingestv1.Build
	// Next is the URL of the next page, "" on the last.
	Next  string
	Chart chart
}

// buildStatuses are the statuses a build can have, in the order the chips show them.
var buildStatuses = []string{"SUCCESS", "FAILED", "CANCELLED", "NOTRUN"}

func dashboard(r *http.Request, c Clients) (*Page, error) {
	q := r.URL.Query()
	sort := q.Get("sort")
	if sort != "" && !slices.Contains(dashboardSorts, sort) {
		return nil, BadRequest("The builds can be sorted by %s, not %q.", strings.Join(dashboardSorts, ", "), sort)
	}
	if s := q.Get("status"); s != "" && !slices.Contains(buildStatuses, s) {
		return nil, BadRequest("There is no build status %q; a build is one of %s.", s, strings.Join(buildStatuses, ", "))
	}
	req := &ingestv1.ListBuildsRequest{
		Status:       q.Get("status"),
		Tag:          q.Get("tag"),
		Owner:        q.Get("owner"),
		SpackVersion: q.Get("spack_version"),
		Hostname:     q.Get("host"),
		SpecName:     q.Get("package"),
		Q:            q.Get("q"),
		PageSize:     dashboardPageSize,
		PageToken:    q.Get("page"),
		OrderBy:      sort,
	}
	resp, err := c.Ingest.ListBuilds(r.Context(), req)
	if err != nil {
		return nil, err
	}
	counts, err := c.Ingest.CountBuildsByDay(r.Context(), &ingestv1.CountBuildsByDayRequest{Days: chartDays, Owner: q.Get("owner")})
	if err != nil {
		return nil, err
	}
	d := dashboardData{Chart: newChart(counts.GetDays()), Query: q, Q: q.Get("q"), Status: q.Get("status"), Sort: sort, Builds: resp.GetBuilds(),
		Statuses: buildStatuses}
	for _, k := range dashboardFilters {
		if v := q.Get(k); v != "" {
			d.Chips = append(d.Chips, filterChip{Key: k, Value: v, Remove: withoutParam(q, k)})
		}
	}
	if tok := resp.GetNextPageToken(); tok != "" {
		next := cloneQuery(q)
		next.Set("page", tok)
		d.Next = "?" + next.Encode()
	}
	title := "Builds"
	if o := q.Get("owner"); o != "" {
		title = "Builds of " + o
	}
	return &Page{Template: "dashboard", Title: title, Data: d}, nil
}
