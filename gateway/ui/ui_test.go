package ui

import (
	"net/url"
	"strings"
	"testing"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

func TestChartStacksEachDayToScale(t *testing.T) {
	days := []*ingestv1.DayCounts{
		{Day: "2026-12-01", Success: 3, Failed: 1},
		{Day: "2026-12-02"},
		{Day: "2026-12-03", Cancelled: 1, Notrun: 1},
	}
	c := newChart(days)
	if c.Max != 4 || c.Total != 6 || c.First != "2026-12-01" || c.Last != "2026-12-03" || len(c.Bars) != 4 {
		t.Fatalf("chart %+v", c)
	}
	// The fullest day fills the height: its bars stack from the bottom to the top.
	success, failed := c.Bars[0], c.Bars[1]
	if success.H != 75 || success.Y != 25 || failed.H != 25 || failed.Y != 0 || success.Class != "bar-success" {
		t.Errorf("first day's bars %+v %+v", success, failed)
	}
	// The third day is the third column.
	if x := c.Bars[2].X; x != 2*float64(chartWidth)/3+1 {
		t.Errorf("third day at x=%v", x)
	}
	if empty := newChart([]*ingestv1.DayCounts{{Day: "2026-12-01"}}); len(empty.Bars) != 0 || empty.Max != 0 {
		t.Errorf("a month without builds: %+v", empty)
	}
}

func TestVariantsKeepTheDocumentOrder(t *testing.T) {
	got := variants(`{"zeta": true, "alpha": ["a", "b"], "mid": {"x": 1}}`)
	want := []variant{{"zeta", "true"}, {"alpha", `["a","b"]`}, {"mid", `{"x":1}`}}
	if len(got) != len(want) {
		t.Fatalf("variants %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("variant %d = %v, want %v", i, got[i], want[i])
		}
	}
	if v := variants(`[1, 2]`); v != nil {
		t.Errorf("a list has no variants: %v", v)
	}
}

func TestFilterLinksStartAgainFromTheFirstPage(t *testing.T) {
	q := url.Values{"status": {"FAILED"}, "page": {"abc"}, "q": {"zlib"}}
	if got := withParam(q, "tag", "a&b"); got != "?q=zlib&status=FAILED&tag=a%26b" {
		t.Errorf("withParam = %q", got)
	}
	if got := withoutParam(q, "status"); got != "?q=zlib" {
		t.Errorf("withoutParam = %q", got)
	}
	if q.Get("page") != "abc" {
		t.Error("the page's own query was changed")
	}
}

// A spec stored with parameters nested deeper than ingest now takes is shown compact: indented,
// 5,000 levels made a 50 MB page of a 20 KB document.
func TestSpecDocumentOfDeepParametersStaysSmall(t *testing.T) {
	for depth, indented := range map[int]bool{3: true, 5000: false} {
		params := `{"a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
		doc := specDocument(&ingestv1.Spec{Name: "deep", Parameters: params})
		if got := strings.Contains(doc, "\n  \"name\""); got != indented {
			t.Errorf("depth %d: indented %v, want %v", depth, got, indented)
		}
		if len(doc) > 4*len(params)+1000 {
			t.Errorf("depth %d: %d bytes shown for %d bytes of parameters", depth, len(doc), len(params))
		}
	}
}

func TestCountSaysOneInTheSingular(t *testing.T) {
	for n, want := range map[int64]string{0: "no errors", 1: "1 error", 2: "2 errors"} {
		if got := count(n, "error"); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
