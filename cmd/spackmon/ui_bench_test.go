package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// seedPagesSQL fills an empty ingest schema on PostgreSQL with 1,000 specs (100 packages,
// each depending on two others), 100,000 builds over the last 30 days by 2 owners on 50
// hosts, one phase each with 10 events: 1,000,000 events.
var seedPagesSQL = []string{
	`INSERT INTO compilers (name, version) VALUES ('gcc', '12.2.0'), ('clang', '16.0.6')`,
	`INSERT INTO targets (name) VALUES ('x86_64_v3')`,
	`INSERT INTO architectures (platform, platform_os, target_id) SELECT 'linux', 'debian12', id FROM targets`,
	`INSERT INTO specs (name, spack_version, full_hash, hash, version, compiler_id, arch_id, namespace, parameters)
	 SELECT 'pkg-' || (i % 100), '0.17.2', 'fh' || lpad(i::text, 30, '0'), 'h' || i, (i / 100) || '.' || (i % 7),
	        1 + i % 2, (SELECT min(id) FROM architectures), 'builtin', '{"shared":true}'
	 FROM generate_series(1, 1000) AS i`,
	`INSERT INTO spec_dependencies (spec_id, dep_id, types, position)
	 SELECT s.id, d.id, 'build,link', k FROM specs s CROSS JOIN generate_series(1, 2) AS k
	 JOIN specs d ON d.id = 1 + (s.id + 7 * k) % 1000`,
	`INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform)
	 SELECT 'host-' || i, '6.1', 'debian12', 'x86_64_v3', 'linux' FROM generate_series(1, 50) AS i`,
	`INSERT INTO builds (spec_id, env_id, owner_key, owner, status, created_at, updated_at, finished_at)
	 SELECT 1 + i % 1000, 1 + (i / 1000) % 50, 'user-' || (i / 50000), 'user-' || (i / 50000),
	        (ARRAY['SUCCESS', 'FAILED', 'CANCELLED', 'NOTRUN'])[1 + i % 4],
	        now() - make_interval(secs => (100000 - i) * 25), now() - make_interval(secs => (100000 - i) * 25), now()
	 FROM generate_series(0, 99999) AS i`,
	`INSERT INTO tags (name, folded) VALUES ('nightly', 'nightly'), ('release', 'release')`,
	`INSERT INTO build_tags (build_id, tag_id) SELECT id, 1 + id % 2 FROM builds`,
	`INSERT INTO phases (build_id, name, status, output_null, error_count, warning_count, errors_total, warnings_total, updated_at)
	 SELECT id, 'build', CASE WHEN status = 'FAILED' THEN 'ERROR' ELSE 'SUCCESS' END, true, 5, 5, 5, 5, now() FROM builds`,
	`INSERT INTO phase_event_lists (phase_id, context_in_log, kinds, line_nos, texts, source_files, source_lines, pre_contexts,
	                               post_contexts, start_lines, end_lines, repeat_counts, fingerprints, text_in_log)
	 SELECT p.id, false, array_agg(CASE WHEN k <= 5 THEN 'error' ELSE 'warning' END ORDER BY k), array_agg(k * 10 ORDER BY k),
	        array_agg('error: something went wrong ' || k ORDER BY k), array_agg('src/file' || k || '.c' ORDER BY k),
	        array_agg(k ORDER BY k), array_agg('before'::text ORDER BY k), array_agg('after'::text ORDER BY k),
	        array_agg(k * 10 - 3 ORDER BY k), array_agg(k * 10 + 3 ORDER BY k), array_agg(0 ORDER BY k),
	        array_agg(NULL::text ORDER BY k), array_agg(false ORDER BY k)
	 FROM phases p CROSS JOIN generate_series(1, 10) AS k
	 GROUP BY p.id`,
	`VACUUM ANALYZE`,
}

// BenchmarkPages measures each page's answer through the gateway (HTTP, gRPC, service and
// PostgreSQL) with 100,000 builds and 1,000,000 events stored. Seeding takes a minute.
func BenchmarkPages(b *testing.B) {
	srv := startServe(b, backends[1].database(b), nil)
	conn, err := pgx.Connect(context.Background(), srv.db.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range seedPagesSQL {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			b.Fatalf("seeding: %v\n%s", err, q)
		}
	}
	// One build through the protocol, for a real compressed log with an error.
	id := failedBuild(b, srv, 100000, 60000)
	midID, spec := int64(50000), "fh"+strings.Repeat("0", 27)+"500"
	pages := []struct{ name, path string }{
		{"api-build-counts", "/api/v1/build-counts"},
		{"api-builds", "/api/v1/builds?page_size=50"},
		{"api-builds-failed", "/api/v1/builds?page_size=50&status=FAILED"},
		{"api-builds-search", "/api/v1/builds?page_size=50&q=pkg-42"},
		{"dashboard", "/"},
		{"dashboard-failed", "/?status=FAILED"},
		{"dashboard-owner-tag", "/?owner=user-1&tag=nightly"},
		{"dashboard-search", "/?q=pkg-42"},
		{"dashboard-sort-name", "/?sort=name"},
		{"dashboard-sort-updated", "/?sort=updated"},
		{"build", fmt.Sprintf("/builds/%d", midID)},
		{"build-failed-100k-line-log", fmt.Sprintf("/builds/%d", id)},
		{"log-window-at-error", fmt.Sprintf("/builds/%d/phases/build", id)},
		{"log-grep", fmt.Sprintf("/builds/%d/phases/build/grep?q=undeclared", id)},
		{"spec", "/specs/" + spec},
		{"spec-diff", "/specs/diff?a=" + spec + "&b=fh" + strings.Repeat("0", 27) + "501"},
		{"matrix", "/matrix?package=pkg-42"},
		{"analysis", fmt.Sprintf("/analysis?build=%d", midID)},
	}
	// The chart's count of a month of builds, each time a range not counted before (the
	// service keeps an answer 10 s): what a dashboard view costs when it is not kept.
	b.Run("api-build-counts-uncounted", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if a := srv.get(b, fmt.Sprintf("/api/v1/build-counts?days=%d", 31+i%300)); a.Status != http.StatusOK {
				b.Fatalf("build counts: %d %s", a.Status, a.Body)
			}
		}
	})
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if a := srv.get(b, p.path); a.Status != http.StatusOK {
					b.Fatalf("GET %s: %d %.500s", p.path, a.Status, a.Body)
				}
			}
		})
	}
}
