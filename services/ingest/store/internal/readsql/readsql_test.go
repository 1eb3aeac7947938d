package readsql

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

var (
	dollar = New(func(n int) string { return "$" + strconv.Itoa(n) },
		func(column, pattern string) string { return column + " ILIKE " + pattern },
		func(param string) string { return "time(" + param + ")" })
	placeholder = regexp.MustCompile(`\$(\d+)`)
)

// checkParams fails unless the statement's placeholders are exactly $1 to $len(args).
func checkParams(t *testing.T, what, sql string, args []any) {
	t.Helper()
	used := map[int]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(sql, -1) {
		n, _ := strconv.Atoi(m[1])
		used[n] = true
	}
	for n := 1; n <= len(args); n++ {
		if !used[n] {
			t.Errorf("%s: argument %d (%v) has no placeholder in %s", what, n, args[n-1], sql)
		}
		delete(used, n)
	}
	if len(used) > 0 {
		t.Errorf("%s: placeholders %v without arguments in %s", what, used, sql)
	}
}

func TestListBuildsParams(t *testing.T) {
	for mask := range 1 << 8 {
		set := func(bit int) bool { return mask&(1<<bit) != 0 }
		q := store.BuildQuery{Limit: 5000}
		var want []any
		if set(0) {
			q.Status = "FAILED"
			want = append(want, q.Status)
		}
		if set(1) {
			q.Tag = " NightLy "
			want = append(want, "nightly")
		}
		if set(2) {
			q.SpecName = "root"
			want = append(want, q.SpecName)
		}
		if set(3) {
			q.Owner = "bob"
			want = append(want, q.Owner)
		}
		if set(4) {
			q.Hostname = "host1"
			want = append(want, q.Hostname)
		}
		if set(5) {
			q.SpackVersion = "0.17.1"
			want = append(want, q.SpackVersion)
		}
		if set(6) {
			q.Text = `50%_\`
			// Anywhere in the other texts, a full hash by its start.
			want = append(want, `%50\%\_\\%`, `50\%\_\\%`)
		}
		if set(7) {
			q.AfterID = 42
			want = append(want, int64(42))
		}
		want = append(want, page.MaxSize)
		sql, args := dollar.ListBuilds(q)
		checkParams(t, "ListBuilds", sql, args)
		if !slices.Equal(args, want) {
			t.Errorf("ListBuilds(%+v) arguments %v, want %v", q, args, want)
		}
		if where := strings.HasPrefix(strings.TrimPrefix(sql, rows.BuildColumns), " WHERE "); where != (mask != 0) {
			t.Errorf("ListBuilds(%+v): WHERE clause %v in %s", q, where, sql)
		}
	}
}

func TestListSpecsParams(t *testing.T) {
	for mask := range 1 << 4 {
		set := func(bit int) bool { return mask&(1<<bit) != 0 }
		q := store.SpecQuery{}
		var want []any
		if set(0) {
			q.Name = "zlib"
			want = append(want, q.Name)
		}
		if set(1) {
			q.Version = "1.3"
			want = append(want, q.Version)
		}
		if set(2) {
			q.SpackVersion = "0.17.1"
			want = append(want, q.SpackVersion)
		}
		if set(3) {
			q.AfterID = 7
			want = append(want, int64(7))
		}
		want = append(want, page.DefaultSize)
		sql, args := dollar.ListSpecs(q)
		checkParams(t, "ListSpecs", sql, args)
		if !slices.Equal(args, want) {
			t.Errorf("ListSpecs(%+v) arguments %v, want %v", q, args, want)
		}
	}
}

func TestLookupParams(t *testing.T) {
	for _, sv := range []string{"", "0.17.1"} {
		sql, args := dollar.GetSpec("abc", sv)
		checkParams(t, "GetSpec", sql, args)
		if args[0] != "abc" || !strings.Contains(sql, "ORDER BY s.full_hash = $1 DESC") {
			t.Errorf("GetSpec(abc, %q) = %s %v", sv, sql, args)
		}
	}
	for _, kind := range []logparse.Kind{"", logparse.Warning} {
		sql, args := dollar.PhaseEvents(3, kind, 4, 5, 10)
		checkParams(t, "PhaseEvents", sql, args)
		sql, args = dollar.EventPhases(3, 4)
		checkParams(t, "EventPhases", sql, args)
	}
	for what, sql := range map[string]string{
		"Build": dollar.Build, "BuildExists": dollar.BuildExists, "SpecDeps": dollar.SpecDeps,
		"SpecDependents": dollar.SpecDependents,
	} {
		checkParams(t, what, sql, []any{1})
	}
	for what, sql := range map[string]string{"BuildSpec": dollar.BuildSpec, "PhaseOutput": dollar.PhaseOutput} {
		checkParams(t, what, sql, []any{1, 2})
	}
}
