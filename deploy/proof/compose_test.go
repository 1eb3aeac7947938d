package proof

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

func composePath(name string) string { return filepath.Join("..", name) }

// loadCompose loads a compose file with its secrets' files made as its comments tell the
// operator to (a signing key in deploy/signing-key.pem), here in a temporary directory.
func loadCompose(t *testing.T, name string) *types.Project {
	t.Helper()
	p, err := LoadCompose(context.Background(), composePath(name))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(overlayDir("dev"), "dev-signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range p.Secrets {
		s.File = filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(s.File, key, 0o600); err != nil {
			t.Fatal(err)
		}
		p.Secrets[name] = s
	}
	return p
}

func TestComposeWiring(t *testing.T) {
	for _, name := range []string{"compose.yaml", "compose.serve.yaml"} {
		t.Run(name, func(t *testing.T) {
			p := loadCompose(t, name)
			units, _, err := ComposeUnits(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckComposeWiring(p, units); err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Services {
				if !spackmonImage(s.Image) || s.Command[0] == "migrate" {
					continue
				}
				if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) != 30*time.Second {
					t.Errorf("%s: stop_grace_period want 30s", s.Name)
				}
				if s.HealthCheck == nil {
					t.Errorf("%s: no health check", s.Name)
				}
			}
		})
	}
}

func TestComposeWiringCatchesMistakes(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "compose.yaml")
	wrong := "ingest:9091"
	p.Services["gateway"].Environment["SPACKMON_INGEST_ADDR"] = &wrong
	units, _, err := ComposeUnits(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckComposeWiring(p, units); err == nil {
		t.Fatal("a gateway dialling ingest on a port it does not listen on passed")
	}
	if err := runCompose(t, binary(t), p, 8*time.Second); err == nil {
		t.Fatal("a gateway dialling ingest on a port it does not listen on ran")
	}
}

func TestComposeWithTheBinary(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	for _, name := range []string{"compose.yaml", "compose.serve.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := loadCompose(t, name)
			if err := runCompose(t, bin, p, 60*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// runCompose runs a project's services as processes on loopback: the migration to its end,
// then the roles until every health check passes, then a captured Spack session through the
// published port.
func runCompose(t *testing.T, bin string, p *types.Project, wait time.Duration) error {
	units, jobs, err := ComposeUnits(p)
	if err != nil {
		return err
	}
	if err := checkSettings(t, bin, append(units, jobs...)); err != nil {
		return err
	}
	r, err := NewRunner(bin, ComposeNetwork(p, units), units)
	if err != nil {
		return err
	}
	r.Wait, r.FileDir, r.DatabaseURL = wait, t.TempDir(), emptyDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); r.Stop() })
	for _, j := range jobs {
		if err := r.RunToEnd(ctx, j); err != nil {
			return err
		}
	}
	var admin *Unit
	for _, u := range units {
		if !u.Spackmon {
			continue
		}
		if u.Args[0] == "auth" || u.Args[0] == "serve" {
			admin = u
		}
		if u.Args[0] == "serve" {
			// Its data volume.
			u.Env["SPACKMON_DATA_DIR"] = t.TempDir()
		}
		if err := r.Start(ctx, u); err != nil {
			return err
		}
	}
	if err := r.AwaitProbes(ctx); err != nil {
		return err
	}
	d := &deployment{runner: r, units: units}
	token := lastLine(d.exec(t, admin.Name, "user", "add", "spacker"))
	base := r.Translate(nil, "", admin.Env["SPACKMON_PUBLIC_URL"])
	if err := replaySession(t, base, "spacker", token, "v0.18-install.jsonl", func(u string) string { return r.Translate(nil, "", u) }); err != nil {
		t.Fatalf("replay through %s: %v\n%s", base, err, r.Logs())
	}
	wantBuilds(t, base, 2)
	return nil
}
