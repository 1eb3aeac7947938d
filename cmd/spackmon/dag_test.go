package main

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestDependencyQueries asks /api/v1 which builds and specs depend on a constraint, at any
// depth of the singularity DAG, on both stores.
func TestDependencyQueries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		id := newBuild(t, srv)
		builds := func(query string) []int64 {
			t.Helper()
			a := srv.get(t, "/api/v1/builds?"+query)
			if a.Status != http.StatusOK {
				t.Fatalf("builds?%s: %d %s", query, a.Status, a.Body)
			}
			var ids []int64
			list, _ := a.JSON(t)["builds"].([]any)
			for _, b := range list {
				ids = append(ids, num(t, path(b, "id")))
			}
			return ids
		}
		for constraint, want := range map[string][]int64{
			"zlib@1.2.11":    {id},
			"zlib@1.2:":      {id},
			"zlib@1.2.12:":   nil,
			"libmd":          {id}, // six edges down: cryptsetup, util-linux, python, expat, libbsd, libmd
			"perl+shared":    {id},
			"perl~shared":    nil,
			"openssl%gcc@9":  {id},
			"openssl%gcc@10": nil,
			"singularity":    nil, // a build does not depend on its own spec
		} {
			q := url.Values{"dependency": {constraint}, "spec_name": {"singularity"}}
			if got := builds(q.Encode()); !slices.Equal(got, want) {
				t.Errorf("builds of singularity depending on %s = %v, want %v", constraint, got, want)
			}
		}
		for _, bad := range []string{"/api/v1/builds?dependency=" + url.QueryEscape("zlib@@1"),
			"/api/v1/specs?depends_on=" + url.QueryEscape("zlib target=skylake")} {
			if a := srv.get(t, bad); a.Status != http.StatusBadRequest {
				t.Errorf("%s answered %d %s", bad, a.Status, a.Body)
			}
		}

		a := srv.get(t, "/api/v1/specs?page_size=1000&depends_on="+url.QueryEscape("zlib@1.2.11"))
		if a.Status != http.StatusOK {
			t.Fatalf("specs depending on zlib: %d %s", a.Status, a.Body)
		}
		var names []string
		list, _ := a.JSON(t)["specs"].([]any)
		for _, sp := range list {
			names = append(names, path(sp, "name").(string))
		}
		for _, name := range []string{"singularity", "perl", "python", "curl", "git", "openssh", "autoconf", "squashfs"} {
			if !slices.Contains(names, name) {
				t.Errorf("%s depends on zlib and is not listed: %v", name, names)
			}
		}
		for _, name := range []string{"zlib", "pkgconf", "xz", "libiconv", "libmd"} {
			if slices.Contains(names, name) {
				t.Errorf("%s does not depend on zlib and is listed", name)
			}
		}
	})
}
