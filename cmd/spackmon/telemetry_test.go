package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/proctest"
)

// The roles as separate processes export their spans to a collector (an OTLP receiver in
// the test) and serve their metrics: a request is one trace from the gateway through every
// service it reaches down to each SQL statement, and the metrics count what was done.
func TestTracesAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	recv := startOTLPReceiver(t)
	bin := proctest.Build(t)
	db := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	d := proctest.StartRoles(t, bin, append(os.Environ(), "SPACKMON_DATABASE_URL="+db, "SPACKMON_LOG_LEVEL=warn",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+recv.addr, "OTEL_BSP_SCHEDULE_DELAY=50"))
	srv := &testServer{URL: d.URL, prefix: "/ms1", client: &http.Client{Timeout: time.Minute}, realm: d.URL + "/auth/token/"}
	srv.user = "tracer"
	srv.apiToken = proctest.AddUser(t, bin, d.Env, srv.user)
	srv.bearer = srv.token(t, srv.user, srv.apiToken, "")
	secrets := []string{srv.apiToken, srv.bearer}

	// A spec: its hash is on the ingest span.
	spec := newTraceParent()
	a := srv.do(t, http.MethodPost, "/ms1/specs/new/", mustJSON(t, singularitySpec(t)), traced(spec))
	hash, _ := path(wantEnvelope(t, a, http.StatusCreated, ""), "data", "spec", "full_hash").(string)
	spans := recv.waitTrace(t, spec.traceID, reachesSQL(spec, "NewSpec", "spackmon-ingest"))
	if s := serverSpan(spans, "spackmon-ingest", "NewSpec"); s.Attributes["spackmon.spec_hash"] != hash || s.Attributes["spackmon.user"] != srv.user {
		t.Errorf("NewSpec span attributes %v, want spec hash %s and user %s", s.Attributes, hash, srv.user)
	}
	noSecrets(t, spans, secrets)

	// A phase: gateway -> ingest -> each SQL statement, one trace, every parent present.
	m := wantEnvelope(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusCreated, "")
	id := num(t, path(m, "data", "build", "build_id"))
	phase := newTraceParent()
	output := "configure: checking for gcc\nsrc/a.c:1:1: error: expected ';'\nsrc/a.c:2:3: warning: unused variable 'x'\n"
	a = srv.do(t, http.MethodPost, "/ms1/builds/phases/update/", mustJSON(t, map[string]any{
		"build_id": id, "phase_name": "build", "status": "ERROR", "output": output}), traced(phase))
	wantEnvelope(t, a, http.StatusOK, "")
	// The gateway streams a phase's log to ingest (StreamPhase).
	spans = recv.waitTrace(t, phase.traceID, reachesSQL(phase, "StreamPhase", "spackmon-ingest"))
	sql := sqlSpans(spans, "spackmon-ingest")
	chain := ancestors(spans, sql[0])
	if got := services(chain); !slices.Equal(got, []string{"spackmon-ingest", "spackmon-gateway"}) {
		t.Errorf("a SQL span's ancestors come from %v, want ingest then gateway:\n%s", got, describeSpans(chain))
	}
	top := chain[len(chain)-1]
	if top.Kind != tracepb.Span_SPAN_KIND_SERVER || top.Parent != phase.spanID || top.Attributes["http.route"] != "/ms1/builds/phases/update" {
		t.Errorf("the trace's first span is %+v, want the gateway's server span of the route, child of the client's", top)
	}
	if s := serverSpan(spans, "spackmon-ingest", "StreamPhase"); s.Attributes["spackmon.build_id"] != fmt.Sprint(id) || s.Attributes["spackmon.user"] != srv.user {
		t.Errorf("StreamPhase span attributes %v, want build %d and user %s", s.Attributes, id, srv.user)
	}
	if len(sql) < 2 {
		t.Errorf("%d SQL spans in the phase's trace, want one per statement (at least begin and the write)", len(sql))
	}
	noSecrets(t, spans, secrets)

	// An analysis: gateway -> analysis -> ingest (who owns the build) joins the same trace.
	analysis := newTraceParent()
	a = srv.do(t, http.MethodPost, "/ms1/analyze/builds/", mustJSON(t, map[string]any{
		"build_id": id, "metadata": map[string]any{"environment_variables": map[string]string{"CC": "gcc"}}}), traced(analysis))
	wantEnvelope(t, a, http.StatusOK, "Metadata updated")
	spans = recv.waitTrace(t, analysis.traceID, func(spans []receivedSpan) bool {
		if !linksIntact(spans, analysis) {
			return false
		}
		for _, s := range spans {
			if s.Service == "spackmon-ingest" && s.Kind == tracepb.Span_SPAN_KIND_SERVER &&
				slices.Equal(services(ancestors(spans, s)), []string{"spackmon-ingest", "spackmon-analysis", "spackmon-gateway"}) {
				return len(sqlSpans(spans, "spackmon-analysis")) > 0
			}
		}
		return false
	})
	if s := serverSpan(spans, "spackmon-analysis", "RecordAnalysis"); s.Attributes["spackmon.build_id"] != fmt.Sprint(id) {
		t.Errorf("analysis span attributes %v, want build %d", s.Attributes, id)
	}
	noSecrets(t, spans, secrets)

	// Refusals for the realm's metrics, and a request the gateway answers 401.
	tokenRefusals := func() float64 {
		v, _ := sample(scrape(t, d.URL+"/metrics")["spackmon_http_requests_total"], map[string]string{"route": "/auth/token", "method": "GET", "code": "401"})
		return v
	}
	refusedBefore := tokenRefusals()
	for range 2 {
		if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic(srv.user, "not-a-token")); a.Status != http.StatusUnauthorized {
			t.Fatalf("wrong credentials: %d %s", a.Status, a.Body)
		}
	}
	if a := srv.do(t, http.MethodPost, "/ms1/builds/phases/update/", mustJSON(t, map[string]any{"build_id": id}), http.Header{"Authorization": {"Bearer nope"}}); a.Status != http.StatusUnauthorized {
		t.Fatalf("a forged token: %d %s", a.Status, a.Body)
	}

	// A web page, counted by its pattern.
	if a := srv.get(t, fmt.Sprintf("/builds/%d", id)); a.Status != http.StatusOK {
		t.Fatalf("build page: %d", a.Status)
	}

	families := map[string]map[string]*dto.MetricFamily{"gateway": scrape(t, d.URL+"/metrics")}
	for role, url := range d.Metrics {
		families[role] = scrape(t, url)
	}
	if got := tokenRefusals() - refusedBefore; got != 2 {
		t.Errorf("the gateway counted %v token requests answered 401, want 2", got)
	}
	for _, c := range []struct {
		role, metric string
		labels       map[string]string
		want         func(float64) bool
		what         string
	}{
		{"gateway", "spackmon_http_requests_total", map[string]string{"route": "/ms1/builds/phases/update", "method": "POST", "code": "200"}, equals(1), "1"},
		{"gateway", "spackmon_http_requests_total", map[string]string{"route": "/ms1/builds/phases/update", "method": "POST", "code": "401"}, equals(1), "1"},
		{"gateway", "spackmon_http_requests_total", map[string]string{"route": "GET /builds/{id}", "method": "GET", "code": "200"}, equals(1), "1"},
		{"gateway", "spackmon_http_request_duration_seconds", map[string]string{"route": "/ms1/builds/phases/update", "method": "POST"}, equals(2), "2 observations"},
		{"ingest", "spackmon_grpc_server_handled_total", map[string]string{"grpc_service": "spackmon.ingest.v1.PhaseStreamService", "grpc_method": "StreamPhase", "grpc_code": "OK"}, equals(1), "1"},
		{"ingest", "spackmon_grpc_server_handled_total", map[string]string{"grpc_method": "StreamPhase", "grpc_code": "Unauthenticated"}, equals(1), "1"},
		{"ingest", "spackmon_grpc_server_handling_seconds", map[string]string{"grpc_method": "NewSpec"}, equals(1), "1 observation"},
		{"ingest", "spackmon_phase_bytes_ingested_total", nil, equals(float64(len(output))), fmt.Sprint(len(output))},
		{"ingest", "spackmon_phase_events_ingested_total", map[string]string{"kind": "error"}, equals(1), "1"},
		{"ingest", "spackmon_phase_events_ingested_total", map[string]string{"kind": "warning"}, equals(1), "1"},
		{"ingest", "spackmon_database_up", map[string]string{"service": "ingest"}, equals(1), "1"},
		{"ingest", "spackmon_db_pool_max_connections", map[string]string{"service": "ingest", "pool": "pgx"}, atLeast(1), "> 0"},
		{"analysis", "spackmon_db_pool_connections", map[string]string{"service": "analysis", "pool": "pgx", "state": "idle"}, atLeast(1), "> 0 (a connection was used)"},
		{"analysis", "spackmon_grpc_server_handled_total", map[string]string{"grpc_method": "RecordAnalysis", "grpc_code": "OK"}, equals(1), "1"},
		{"auth", "spackmon_realm_tokens_issued_total", nil, equals(1), "1"},
		{"auth", "spackmon_realm_token_refusals_total", map[string]string{"reason": "malformed_api_token"}, equals(2), "2"},
	} {
		got, ok := sample(families[c.role][c.metric], c.labels)
		if !ok || !c.want(got) {
			t.Errorf("%s: %s%v = %v (found: %v), want %s", c.role, c.metric, c.labels, got, ok, c.what)
		}
	}

	t.Run("dashboard and alerts name exported metrics", func(t *testing.T) {
		exported := map[string]bool{}
		for _, fams := range families {
			for name, f := range fams {
				for _, n := range sampleNames(name, f.GetType()) {
					exported[n] = true
				}
			}
		}
		queries := append(dashboardQueries(t, "../../deploy/grafana/spackmon.json"), alertQueries(t, "../../k8s/monitoring/prometheusrule.yaml")...)
		if len(queries) < 6 {
			t.Fatalf("only %d queries found in the dashboard and the rules", len(queries))
		}
		for _, q := range queries {
			names := metricNames(q.expr)
			if len(names) == 0 {
				t.Errorf("%s: %q names no spackmon metric", q.where, q.expr)
			}
			for _, n := range names {
				if !exported[n] {
					t.Errorf("%s: %q names %s, which no process exports", q.where, q.expr, n)
				}
			}
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// traced is the header of a request sent as part of the trace p.
func traced(p traceParent) http.Header {
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Traceparent": {p.header()}}
}

// reachesSQL is complete once every span's parent is in the trace and a SQL span of
// service is under its server span of the method.
func reachesSQL(root traceParent, method, service string) func([]receivedSpan) bool {
	return func(spans []receivedSpan) bool {
		if !linksIntact(spans, root) || serverSpan(spans, service, method).SpanID == "" {
			return false
		}
		for _, s := range sqlSpans(spans, service) {
			for _, up := range ancestors(spans, s) {
				if up.Kind == tracepb.Span_SPAN_KIND_SERVER && strings.HasSuffix(up.Name, "/"+method) {
					return true
				}
			}
		}
		return false
	}
}

// linksIntact reports whether every span's parent is a span of the trace or the client's.
func linksIntact(spans []receivedSpan, root traceParent) bool {
	ids := map[string]bool{root.spanID: true}
	for _, s := range spans {
		ids[s.SpanID] = true
	}
	for _, s := range spans {
		if !ids[s.Parent] {
			return false
		}
	}
	return len(spans) > 0
}

// ancestors is s and its parents up to the trace's first span.
func ancestors(spans []receivedSpan, s receivedSpan) []receivedSpan {
	byID := map[string]receivedSpan{}
	for _, sp := range spans {
		byID[sp.SpanID] = sp
	}
	chain := []receivedSpan{s}
	for p, ok := byID[s.Parent]; ok && len(chain) <= len(spans); p, ok = byID[p.Parent] {
		chain = append(chain, p)
	}
	return chain
}

// services are the services of a chain of spans, each once per stretch.
func services(chain []receivedSpan) []string {
	var out []string
	for _, s := range chain {
		if len(out) == 0 || out[len(out)-1] != s.Service {
			out = append(out, s.Service)
		}
	}
	return out
}

func serverSpan(spans []receivedSpan, service, method string) receivedSpan {
	for _, s := range spans {
		if s.Service == service && s.Kind == tracepb.Span_SPAN_KIND_SERVER && strings.HasSuffix(s.Name, "/"+method) {
			return s
		}
	}
	return receivedSpan{}
}

// sqlSpans are the spans of the SQL statements service ran.
func sqlSpans(spans []receivedSpan, service string) []receivedSpan {
	var out []receivedSpan
	for _, s := range spans {
		if s.Service == service && (s.Attributes["db.system"] == "postgresql" || s.Attributes["db.system.name"] == "postgresql") {
			out = append(out, s)
		}
	}
	return out
}

// noSecrets fails the test when a span carries a token.
func noSecrets(t testing.TB, spans []receivedSpan, secrets []string) {
	t.Helper()
	for _, s := range spans {
		for k, v := range s.Attributes {
			for _, secret := range secrets {
				if strings.Contains(v, secret) {
					t.Errorf("span %q of %s carries a token in %s", s.Name, s.Service, k)
				}
			}
		}
	}
}

func scrape(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return fams
}

// sample is the value of f's series with labels (a sum over the others): a counter's or
// gauge's value, a histogram's count of observations.
func sample(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	total, found := 0.0, false
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		found = true
		switch {
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total, found
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func equals(want float64) func(float64) bool  { return func(v float64) bool { return v == want } }
func atLeast(want float64) func(float64) bool { return func(v float64) bool { return v >= want } }

// sampleNames are the series names a family is queried by.
func sampleNames(name string, typ dto.MetricType) []string {
	switch typ {
	case dto.MetricType_HISTOGRAM:
		return []string{name, name + "_bucket", name + "_sum", name + "_count"}
	case dto.MetricType_SUMMARY:
		return []string{name, name + "_sum", name + "_count"}
	}
	return []string{name}
}
