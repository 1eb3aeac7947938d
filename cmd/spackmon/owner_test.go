package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	authservice "github.com/spackmon/spackmon/services/auth/service"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// A user added under the name of a deleted user does not own that user's builds: every write
// to them is 403, over /ms1 and /ms1/analyze, and the same build request makes a new build.
// Both are shown as carol's.
func TestReusedNameOwnsNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		name, apiToken := srv.addUser(t, "carol", false)
		carol := bearerHeader(srv.token(t, name, apiToken, ""))
		if a := srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), carol); a.Status != http.StatusCreated {
			t.Fatalf("new spec: %d %s", a.Status, a.Body)
		}
		m := wantEnvelope(t, srv.postAs(t, "/ms1/builds/new/", buildEnv, carol), http.StatusCreated, "")
		old := num(t, path(m, "data", "build", "build_id"))
		srv.administer(t, func(u *authservice.Users) error { return u.Delete(context.Background(), name) })
		name, apiToken = srv.addUser(t, "carol", false)
		newCarol := bearerHeader(srv.token(t, name, apiToken, ""))
		for p, body := range map[string]any{
			"/ms1/builds/update/":        map[string]any{"build_id": old, "status": "FAILED"},
			"/ms1/builds/phases/update/": map[string]any{"build_id": old, "status": "SUCCESS", "phase_name": "build", "output": "x"},
			"/ms1/analyze/builds/":       map[string]any{"build_id": old, "metadata": map[string]any{"config_args": "--prefix=/x"}},
		} {
			if a := srv.postAs(t, p, body, newCarol); a.Status != http.StatusForbidden || a.JSON(t)["message"] != "You do not own the build and cannot update it." {
				t.Errorf("the new carol posts %s: %d %s", p, a.Status, a.Body)
			}
		}
		m = wantEnvelope(t, srv.postAs(t, "/ms1/builds/new/", buildEnv, newCarol), http.StatusCreated, "")
		mine := num(t, path(m, "data", "build", "build_id"))
		if mine == old || m["data"].(map[string]any)["build_created"] != true {
			t.Fatalf("the new carol's build request: %v (the old build is %d)", m, old)
		}
		wantEnvelope(t, srv.postAs(t, "/ms1/builds/update/", map[string]any{"build_id": mine, "status": "SUCCESS"}, newCarol), http.StatusOK, "")
		for _, id := range []int64{old, mine} {
			if b := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t); b["owner"] != "carol" {
				t.Errorf("build %d shown as %v's", id, b["owner"])
			}
		}
	})
}

// Builds owned by a name before the upgrade go to the user of that name on spackmon
// migrate: the user's token then updates them.
func TestMigrateAdoptsNameOwnedBuilds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		name, apiToken := srv.addUser(t, "frank", false)
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
		ingestSt, err := openIngestStore(context.Background(), srv.db, false)
		if err != nil {
			t.Fatal(err)
		}
		defer ingestSt.Close()
		// A build as the first schema stored it: owned by the name alone.
		legacy, err := ingestSt.GetOrCreateBuild(context.Background(), store.NewBuild{FullHash: singularityHash,
			SpackVersion: "1.0.0", Env: store.BuildEnv{Hostname: "old", KernelVersion: "k", HostOS: "o", HostTarget: "t", Platform: "linux"}, Owner: name})
		if err != nil {
			t.Fatal(err)
		}
		frank := bearerHeader(srv.token(t, name, apiToken, ""))
		update := map[string]any{"build_id": legacy.Build.ID, "status": "SUCCESS"}
		if a := srv.postAs(t, "/ms1/builds/update/", update, frank); a.Status != http.StatusForbidden {
			t.Fatalf("before adoption: %d %s", a.Status, a.Body)
		}
		if n, err := adoptOwnersIn(context.Background(), srv.db); err != nil || n != 1 {
			t.Fatalf("adoption: %d, %v", n, err)
		}
		wantEnvelope(t, srv.postAs(t, "/ms1/builds/update/", update, frank), http.StatusOK, "")
	})
}
