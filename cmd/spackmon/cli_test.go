package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestHelpListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if err := printHelp(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SPACKMON_ADDR", "127.0.0.1:8080", "SPACKMON_DATA_DIR", "./spackmon-data", "SPACKMON_DATABASE_URL",
		"SPACKMON_GRPC_ADDR", "SPACKMON_INGEST_ADDR", "SPACKMON_API_PREFIX", "SPACKMON_MAX_BODY_BYTES", "268435456",
		"serve", "ingest", "gateway", "migrate", "version",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help does not mention %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := realMain(context.Background(), []string{"frobnicate"}); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if err := realMain(context.Background(), nil); err == nil {
		t.Fatal("no command succeeded")
	}
}

// An operator who moves the protocol to another prefix gets it there, and only there.
func TestAPIPrefix(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.APIPrefix = "spack" })
	if a := srv.get(t, "/spack/"); a.Status != http.StatusOK || a.JSON(t)["id"] != "spackmon" {
		t.Errorf("service info under the prefix: %d %s", a.Status, a.Body)
	}
	wantEnvelope(t, srv.post(t, "/spack/specs/new/", singularitySpec(t)), http.StatusCreated, "success")
	wantError(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusNotFound)
}
