package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// promQuery is a PromQL expression shipped for operators, and where it is.
type promQuery struct{ where, expr string }

// dashboardQueries are the queries of every panel of the Grafana dashboard at file.
func dashboardQueries(t testing.TB, file string) []promQuery {
	t.Helper()
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var qs []promQuery
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no query", file, p.Title)
		}
		for _, tg := range p.Targets {
			qs = append(qs, promQuery{file + ": panel " + p.Title, tg.Expr})
		}
	}
	return qs
}

// alertQueries are the expressions of every rule of the PrometheusRule at file.
func alertQueries(t testing.TB, file string) []promQuery {
	t.Helper()
	var rule struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name   string            `yaml:"name"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Alert       string            `yaml:"alert"`
					Expr        string            `yaml:"expr"`
					For         string            `yaml:"for"`
					Labels      map[string]string `yaml:"labels"`
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rule); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" {
		t.Errorf("%s is a %s %s, want a monitoring.coreos.com/v1 PrometheusRule", file, rule.APIVersion, rule.Kind)
	}
	var qs []promQuery
	var alerts []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.For == "" {
				t.Errorf("%s: alert %s needs a severity, a summary and a for", file, r.Alert)
			}
			alerts = append(alerts, r.Alert)
			qs = append(qs, promQuery{file + ": alert " + r.Alert, r.Expr})
		}
	}
	for _, want := range []string{"SpackmonHighErrorRate", "SpackmonHighLatency", "SpackmonDatabaseDown"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("%s has no alert %s", file, want)
		}
	}
	return qs
}

var (
	// promString is a quoted PromQL string (a label value), whose words are no metric names.
	promString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMetric = regexp.MustCompile(`\bspackmon_[a-zA-Z0-9_:]*`)
)

// metricNames are the spackmon metrics an expression reads.
func metricNames(expr string) []string {
	return promMetric.FindAllString(promString.ReplaceAllString(expr, `""`), -1)
}

// The names the dashboard check looks for are the metrics a query reads, not the words of
// its label values.
func TestPromQLMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum(rate(spackmon_http_requests_total{route="/spackmon_fake",code=~"5.."}[5m]))`:  {"spackmon_http_requests_total"},
		`histogram_quantile(0.99, sum by (le) (rate(spackmon_x_bucket[5m]))) / spackmon_y`: {"spackmon_x_bucket", "spackmon_y"},
		`up{job='spackmon_gateway'} == 0`:                                                  nil,
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}
