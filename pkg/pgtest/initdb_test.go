package pgtest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/pgtest"
)

// When make test runs against the machine's server, the throw-away cluster would go
// untested; this runs the package's tests once more without the URL, so initdb starts one.
func TestWithoutServerURL(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skip("this run already uses a throw-away cluster")
	}
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestDatabases|^TestParallel", "-test.count=1", "-test.v")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, pgtest.EnvURL+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDatabasesAreSeparateCopiesOfOneTemplate") {
		t.Fatalf("tests on a throw-away cluster: %v\n%s", err, out)
	}
}
