package proof

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m, pgtest.Run) }

// binary is the spackmon binary the manifests run.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the binary's processes")
	}
	return proctest.Build(t)
}

// emptyDatabase is a new PostgreSQL database with no tables: the manifests' migration makes
// them.
func emptyDatabase(t *testing.T) string {
	return pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
}

// settingsOf lists the SPACKMON_* variables a command of the binary reads, from its help.
func settingsOf(t *testing.T, bin, command string) []string {
	t.Helper()
	out, err := exec.Command(bin, command, "-h").Output()
	if err != nil {
		t.Fatalf("spackmon %s -h: %v", command, err)
	}
	return regexp.MustCompile(`(?m)^\s+(SPACKMON_[A-Z0-9_]+)\s`).FindAllString(string(out), -1)
}

// checkSettings fails on a SPACKMON_* variable a unit sets that its command does not read:
// a misspelt name would be ignored and the default used.
func checkSettings(t *testing.T, bin string, units []*Unit) error {
	known := map[string][]string{}
	var errs []string
	for _, u := range units {
		for _, unit := range append([]*Unit{u}, u.Init...) {
			if !unit.Spackmon {
				continue
			}
			cmd := unit.Args[0]
			if known[cmd] == nil {
				for _, s := range settingsOf(t, bin, cmd) {
					known[cmd] = append(known[cmd], strings.TrimSpace(s))
				}
			}
			for name := range unit.Env {
				if strings.HasPrefix(name, "SPACKMON_") && !slices.Contains(known[cmd], name) {
					errs = append(errs, fmt.Sprintf("%s sets %s, which spackmon %s does not read", unit.Name, name, cmd))
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// operatorSecrets are the secrets the production overlay expects the operator to create.
func operatorSecrets(t *testing.T, databaseURL string) map[string]map[string]string {
	key, err := os.ReadFile(filepath.Join(overlayDir("dev"), "dev-signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	return map[string]map[string]string{
		"spackmon-database":    {"url": databaseURL},
		"spackmon-signing-key": {"key.pem": string(key)},
		"spackmon-gateway":     {"secret": base64.StdEncoding.EncodeToString(secret)},
	}
}

// deployment is an overlay running as processes.
type deployment struct {
	runner *Runner
	units  []*Unit
}

// runOverlay runs a built overlay as the cluster would: init containers started, the Jobs
// run, then the roles, until every probe passes. edge adds the ways in the overlay
// documents that have no Ingress (a port-forward).
func runOverlay(t *testing.T, bin string, m *Manifests, secrets map[string]map[string]string, edge map[string]Target, wait time.Duration) (*deployment, error) {
	return runOverlayWith(t, bin, m, secrets, edge, wait, nil)
}

// runOverlayWith is runOverlay with hosts outside the deployment (host:port -> loopback).
func runOverlayWith(t *testing.T, bin string, m *Manifests, secrets map[string]map[string]string, edge map[string]Target, wait time.Duration, external map[string]string) (*deployment, error) {
	units, jobs, err := KubeUnits(m, secrets)
	if err != nil {
		return nil, err
	}
	if err := checkSettings(t, bin, append(slices.Clone(units), jobs...)); err != nil {
		return nil, err
	}
	net, err := KubeNetwork(m, units)
	if err != nil {
		return nil, err
	}
	for k, v := range edge {
		net.Edge[k] = v
	}
	net.External = external
	r, err := NewRunner(bin, net, units)
	if err != nil {
		return nil, err
	}
	r.Wait = wait
	r.FileDir = t.TempDir()
	r.DatabaseURL = emptyDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); r.Stop() })
	initsDone := r.StartInits(ctx)
	for _, j := range jobs {
		if err := r.RunToEnd(ctx, j); err != nil {
			return nil, fmt.Errorf("%w\n%s", err, r.Logs())
		}
	}
	if err := initsDone(); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, r.Logs())
	}
	for _, u := range units {
		if !u.Spackmon {
			continue // the test's database stands for it
		}
		if err := r.Start(ctx, u); err != nil {
			return nil, err
		}
	}
	if err := r.AwaitProbes(ctx); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, r.Logs())
	}
	return &deployment{runner: r, units: units}, nil
}

func (d *deployment) unit(name string) *Unit {
	for _, u := range d.units {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// exec runs a spackmon command in a unit, as kubectl exec would, and returns its output.
func (d *deployment) exec(t *testing.T, unit string, args ...string) string {
	t.Helper()
	u := d.unit(unit)
	cmd := d.runner.command(context.Background(), u, args)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: spackmon %v: %v\n%s", unit, args, err, d.runner.Logs())
	}
	return out.String()
}

func lastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		last = sc.Text()
	}
	return last
}

// devPortForward is how the dev overlay is reached: kubectl port-forward svc/spackmon-gateway 8080:80.
var devPortForward = map[string]Target{"localhost:8080": {"spackmon-gateway", 8080}}

func TestWithTheBinary(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	cases := []struct {
		overlay string
		edge    map[string]Target
		public  string
	}{
		{"dev", devPortForward, "http://localhost:8080"},
		{"production", nil, "https://spackmon.example.org"},
	}
	for _, c := range cases {
		t.Run(c.overlay, func(t *testing.T) {
			t.Parallel()
			m := build(t, c.overlay)
			secrets := operatorSecrets(t, "")
			if c.overlay == "production" {
				secrets["spackmon-database"]["url"] = emptyDatabase(t)
			}
			d, err := runOverlay(t, bin, m, secrets, c.edge, 60*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			token := lastLine(d.exec(t, "spackmon-auth", "user", "add", "spacker"))
			base := d.runner.Translate(nil, "", c.public)
			if err := replaySession(t, base, "spacker", token, "v0.18-install.jsonl", func(u string) string { return d.runner.Translate(nil, "", u) }); err != nil {
				t.Fatalf("replay through %s: %v\n%s", base, err, d.runner.Logs())
			}
			wantBuilds(t, base, 2)
		})
	}
}

// wantBuilds checks that the read API lists n builds: what the replay sent was stored.
func wantBuilds(t *testing.T, base string, n int) {
	t.Helper()
	status, body, _, err := send(http.MethodGet, base+"/api/v1/builds", "", "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET /api/v1/builds: %d %s %v", status, body, err)
	}
	var got struct {
		Builds []json.RawMessage `json:"builds"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Builds) != n {
		t.Fatalf("GET /api/v1/builds: %d builds, want %d (%v): %s", len(got.Builds), n, err, body)
	}
}

// TestWithTheBinaryCatchesMistakes breaks the dev overlay's decoded objects one way at a
// time and expects running them to fail: a misspelt variable, a port that does not match.
func TestWithTheBinaryCatchesMistakes(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	setEnv := func(m *Manifests, deployment, name, newName, value string) {
		for _, d := range m.Deployments {
			if d.Name != deployment {
				continue
			}
			c := &d.Spec.Template.Spec.Containers[0]
			for i := range c.Env {
				if c.Env[i].Name == name {
					c.Env[i].Name, c.Env[i].Value = newName, value
					return
				}
			}
		}
		t.Fatalf("%s sets no %s", deployment, name)
	}
	mutations := map[string]func(m *Manifests){
		"misspelt variable": func(m *Manifests) {
			setEnv(m, "spackmon-gateway", "SPACKMON_INGEST_ADDR", "SPACKMON_INGEST_ADRESS", "dns:///spackmon-ingest:9090")
		},
		"gateway dials a wrong port": func(m *Manifests) {
			setEnv(m, "spackmon-gateway", "SPACKMON_ANALYSIS_ADDR", "SPACKMON_ANALYSIS_ADDR", "dns:///spackmon-analysis:9091")
		},
		"service listens off its container port": func(m *Manifests) {
			setEnv(m, "spackmon-ingest", "SPACKMON_GRPC_ADDR", "SPACKMON_GRPC_ADDR", "0.0.0.0:9095")
		},
		"probe on a path the gateway does not serve": func(m *Manifests) {
			for _, d := range m.Deployments {
				if d.Name == "spackmon-gateway" {
					d.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path = "/ready"
				}
			}
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := build(t, "dev")
			mutate(m)
			_, err := runOverlay(t, bin, m, operatorSecrets(t, ""), devPortForward, 8*time.Second)
			if err == nil {
				t.Fatal("the broken overlay ran")
			}
			t.Log(firstLine(err.Error()))
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
