package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/services/ingest/service"
)

// BenchmarkReadsAtScale measures every /api/v1 list and the web pages on a seeded store,
// reporting the first request's time, p50 and p99 per route in milliseconds (run with
// -benchtime=200x for a p99 of 200 requests). It reads a store seeded by spackmon seed when SPACKMON_SEEDED_DATABASE_URL
// (PostgreSQL) or SPACKMON_SEEDED_DATA_DIR (SQLite) is set, else it seeds 1,000 builds on
// SQLite first. On PostgreSQL, with SPACKMON_SEEDED_PG_LOG naming the server's log, it turns
// on auto_explain for the database and prints the plans (EXPLAIN ANALYZE) of the statements
// of the run that took over 1 ms.
func BenchmarkReadsAtScale(b *testing.B) {
	d := seededDatabase(b)
	pgLog := os.Getenv("SPACKMON_SEEDED_PG_LOG")
	var logStart int64
	if d.URL != "" && pgLog != "" {
		logStart = explainReads(b, d.URL, pgLog)
	}
	srv := runTestServe(b, testConfig(d), slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, r := range readRoutes(b, srv) {
		b.Run(r.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if a := srv.get(b, r.path()); a.Status != 200 {
					b.Fatalf("GET %s: %d %.300s", r.path(), a.Status, a.Body)
				}
				took = append(took, time.Since(start))
			}
			// The first request of a route is the one no cache answers (build-counts keeps
			// its answer for seconds): reported on its own, it is not lost in the p99.
			b.ReportMetric(ms(took[0]), "first-ms")
			slices.Sort(took)
			b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
			b.ReportMetric(ms(took[(len(took)*99)/100]), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
	if logStart > 0 {
		printPlans(b, d.URL, pgLog, logStart)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// seededDatabase is the store the environment names, or a SQLite store seeded here.
func seededDatabase(b *testing.B) config.Database {
	if u := os.Getenv("SPACKMON_SEEDED_DATABASE_URL"); u != "" {
		return config.Database{URL: u, DataDir: b.TempDir()}
	}
	if dir := os.Getenv("SPACKMON_SEEDED_DATA_DIR"); dir != "" {
		return config.Database{DataDir: dir}
	}
	d := config.Database{DataDir: b.TempDir()}
	st, err := openIngestStore(context.Background(), d, true)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := seed(context.Background(), service.New(st), seedPlan{builds: 1000, eventsPerBuild: 10, logBytes: 1000 * 8 << 10, workers: 4, seed: 1}, io.Discard); err != nil {
		b.Fatal(err)
	}
	return d
}

// readRoute is a GET to time; path may change from one request to the next (pages).
type readRoute struct {
	name string
	path func() string
}

func fixed(name, path string) readRoute { return readRoute{name, func() string { return path }} }

// readRoutes are the /api/v1 lists and the web pages, on builds, specs and names found in
// the store.
func readRoutes(b *testing.B, srv *testServer) []readRoute {
	builds := items(getJSON(b, srv, "/api/v1/builds?page_size=1")["builds"])
	failedList := items(getJSON(b, srv, "/api/v1/builds?page_size=1&status=FAILED")["builds"])
	if len(builds) == 0 || len(failedList) == 0 {
		b.Fatal("the store holds no builds, or no failed ones: seed it first")
	}
	one, failed := num(b, builds[0]["id"]), num(b, failedList[0]["id"])
	spec, _ := path(builds[0], "spec", "full_hash").(string)
	name, _ := path(builds[0], "spec", "name").(string)
	host, _ := path(builds[0], "build_environment", "hostname").(string)
	phases := items(getJSON(b, srv, fmt.Sprintf("/api/v1/builds/%d", failed))["phases"])
	failedPhase := "build"
	if len(phases) > 0 {
		failedPhase, _ = phases[len(phases)-1]["name"].(string)
	}
	routes := []readRoute{
		fixed("api-builds", "/api/v1/builds?page_size=50"),
		pages(b, srv, "api-builds-pages-1-20", "/api/v1/builds?page_size=50", 20),
		pages(b, srv, "api-builds-failed-pages-1-20", "/api/v1/builds?page_size=50&status=FAILED", 20),
		fixed("api-builds-status", "/api/v1/builds?page_size=50&status=CANCELLED"),
		fixed("api-builds-tag", "/api/v1/builds?page_size=50&tag=release"),
		fixed("api-builds-owner", "/api/v1/builds?page_size=50&owner=bob"),
		fixed("api-builds-hostname", "/api/v1/builds?page_size=50&hostname="+url.QueryEscape(host)),
		fixed("api-builds-spec-name", "/api/v1/builds?page_size=50&spec_name="+url.QueryEscape(name)),
		fixed("api-builds-q", "/api/v1/builds?page_size=50&q="+url.QueryEscape(name)),
		// A hash matches one spec's builds and a missing word none: newest first, a search
		// that read every build until it had a page read them all for these.
		fixed("api-builds-q-hash", "/api/v1/builds?page_size=50&q="+url.QueryEscape(spec[:min(len(spec), 12)])),
		fixed("api-builds-q-none", "/api/v1/builds?page_size=50&q=no-such-package"),
		fixed("api-build", fmt.Sprintf("/api/v1/builds/%d", one)),
		fixed("api-build-events", fmt.Sprintf("/api/v1/builds/%d/events", one)),
		fixed("api-build-events-error", fmt.Sprintf("/api/v1/builds/%d/events?kind=error", failed)),
		fixed("api-phase-output", fmt.Sprintf("/api/v1/builds/%d/phases/%s/output", failed, failedPhase)),
		fixed("api-build-tests", fmt.Sprintf("/api/v1/builds/%d/tests", one)),
		fixed("api-build-fingerprints", fmt.Sprintf("/api/v1/builds/%d/fingerprints", failed)),
		fixed("api-build-delta", fmt.Sprintf("/api/v1/builds/%d/delta", failed)),
		fixed("api-specs", "/api/v1/specs?page_size=50"),
		pages(b, srv, "api-specs-pages-1-20", "/api/v1/specs?page_size=50", 20),
		fixed("api-specs-name", "/api/v1/specs?page_size=50&name="+url.QueryEscape(name)),
		fixed("api-spec", "/api/v1/specs/"+spec),
		fixed("api-spec-builds", "/api/v1/spec-builds?full_hashes="+spec),
		fixed("api-build-counts", "/api/v1/build-counts"),
		fixed("api-matrix", "/api/v1/matrix?package="+url.QueryEscape(name)),
		fixed("api-failures", "/api/v1/failures"),
		fixed("api-known-causes", "/api/v1/known-causes"),
		fixed("ui-dashboard", "/"),
		fixed("ui-dashboard-failed", "/?status=FAILED"),
		fixed("ui-dashboard-search", "/?q="+url.QueryEscape(name)),
		fixed("ui-build", fmt.Sprintf("/builds/%d", one)),
		fixed("ui-build-failed", fmt.Sprintf("/builds/%d", failed)),
		fixed("ui-phase-log", fmt.Sprintf("/builds/%d/phases/%s", failed, failedPhase)),
		fixed("ui-spec", "/specs/"+spec),
		fixed("ui-failures", "/failures"),
		fixed("ui-matrix", "/matrix?package="+url.QueryEscape(name)),
	}
	return routes
}

// pages walks the first n pages of a list by page_token, one page per request, and starts
// again after the last.
func pages(b *testing.B, srv *testServer, name, first string, n int) readRoute {
	tokens := []string{""}
	for len(tokens) < n {
		m := getJSON(b, srv, first+"&page_token="+url.QueryEscape(tokens[len(tokens)-1]))
		next, _ := m["next_page_token"].(string)
		if next == "" {
			break
		}
		tokens = append(tokens, next)
	}
	i := 0
	return readRoute{name, func() string {
		t := tokens[i%len(tokens)]
		i++
		return first + "&page_token=" + url.QueryEscape(t)
	}}
}

// explainReads has PostgreSQL log the plan of every statement of the database over 1 ms
// from now on, and returns the log's size, where the run's plans will start.
func explainReads(b *testing.B, dbURL, logPath string) int64 {
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	name := conn.Config().Database
	for _, q := range []string{
		`ALTER DATABASE %s SET session_preload_libraries = 'auto_explain'`,
		`ALTER DATABASE %s SET auto_explain.log_min_duration = '1ms'`,
		`ALTER DATABASE %s SET auto_explain.log_analyze = on`,
		`ALTER DATABASE %s SET auto_explain.log_nested_statements = on`,
	} {
		if _, err := conn.Exec(context.Background(), fmt.Sprintf(q, pgx.Identifier{name}.Sanitize())); err != nil {
			b.Fatal(err)
		}
	}
	fi, err := os.Stat(logPath)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// printPlans prints the plans logged for the database since start, the slowest plan of
// each statement once, and turns auto_explain off again.
func printPlans(b *testing.B, dbURL, logPath string, start int64) {
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	name := conn.Config().Database
	_, err = conn.Exec(context.Background(), fmt.Sprintf(`ALTER DATABASE %s RESET ALL`, pgx.Identifier{name}.Sanitize()))
	conn.Close(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	fmt.Println("EXPLAIN ANALYZE of the statements over 1 ms (auto_explain):")
	for _, p := range slowestPlans(f, "@"+name+" ") {
		fmt.Println(p)
	}
}

// slowestPlans reads auto_explain's entries of one database from a server log and keeps
// the slowest of each query text, slowest first.
func slowestPlans(r io.Reader, dbTag string) []string {
	type plan struct {
		text string
		ms   float64
	}
	best := map[string]plan{}
	var cur []string
	var curMS float64
	flush := func() {
		if len(cur) == 0 {
			return
		}
		text := strings.Join(cur, "\n")
		key := text
		if i := strings.Index(text, "Query Text:"); i >= 0 {
			key = text[i:min(len(text), i+400)]
		}
		if p, ok := best[key]; !ok || curMS > p.ms {
			best[key] = plan{text, curMS}
		}
		cur = nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "LOG:  duration:") {
			flush()
			if strings.Contains(line, dbTag) {
				_, after, _ := strings.Cut(line, "duration: ")
				fmt.Sscanf(after, "%f", &curMS)
				cur = []string{line}
			}
			continue
		}
		if cur != nil && (strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " ")) {
			cur = append(cur, line)
		} else {
			flush()
		}
	}
	flush()
	list := make([]plan, 0, len(best))
	for _, p := range best {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b plan) int { return int(b.ms*1000 - a.ms*1000) })
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.text
	}
	return out
}
