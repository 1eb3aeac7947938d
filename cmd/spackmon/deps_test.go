package main

import (
	"os/exec"
	"strings"
	"testing"
)

// maxBuildPackages bounds the packages outside the standard library that the binary builds:
// at 332 (most of the time in modernc.org/sqlite, gRPC and OpenTelemetry), a first make build
// with an empty cache took 288 s on two cores; 334 adds pkg/page and pkg/tags, two small
// packages of this repository that replace copies; 340 adds the web login's golang.org/x/oauth2
// (2 packages) and github.com/coreos/go-oidc/v3 with go-jose (4), the libraries made for OAuth 2
// and OpenID Connect; 342 adds services/ingest/cdash, junit and xmltree, this repository's
// readers of CDash parts and JUnit reports (no new module); 344 adds gateway/ui (the web pages)
// and proto/spackmon/errors/v1 (the declared error reasons), both of this repository; 347
// adds github.com/exaring/otelpgx and its go.opentelemetry.io/otel/semconv/v1.40.0 and
// .../dbconv (a span per SQL statement); 348 adds services/ingest/watch (the watchers of
// builds), 350 services/ingest/fingerprint and its store's failuresql, 351
// services/ingest/retention (the policy of spackmon prune), 352 the ingest stores'
// closuresql (the statements keeping spec_closure), all of this repository; 353
// google.golang.org/grpc/experimental (no new module), the only way to give gRPC's proto
// codec a buffer pool that fits spec DAGs (it halved serve's peak RSS under 64 clients); 354
// pkg/budget, the byte budget the gateway's bodies and ingest's log reads share (of this
// repository). Raise it only for a dependency worth the wait.
const maxBuildPackages = 354

// The cold build must not grow unnoticed.
func TestDependencyBudget(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/spackmon/spackmon/cmd/spackmon").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := len(strings.Fields(string(out)))
	if n > maxBuildPackages {
		t.Errorf("cmd/spackmon builds %d packages outside the standard library, over the budget of %d (make build's first run time grows with them); drop the new dependency, or raise the budget in README.md and here knowingly", n, maxBuildPackages)
	}
	t.Logf("%d of %d packages", n, maxBuildPackages)
}
