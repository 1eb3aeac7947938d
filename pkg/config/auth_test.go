package config_test

import (
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/config"
)

type authOnly struct {
	config.Auth
	TTL config.Seconds `envconfig:"TOKEN_TTL" default:"6000"`
}

func TestAuthFromEnvironment(t *testing.T) {
	t.Setenv("SPACKMON_DISABLE_AUTH", "true")
	t.Setenv("SPACKMON_TOKEN_TTL", "90m")
	var c authOnly
	if err := config.Load(&c); err != nil {
		t.Fatal(err)
	}
	if !c.DisableAuth || c.PrivateReads || time.Duration(c.TTL) != 90*time.Minute {
		t.Errorf("%+v", c)
	}
	// A real boolean: anything else is an error at start, not a silent false.
	for _, bad := range []string{"yes", "on", "enabled"} {
		t.Setenv("SPACKMON_DISABLE_AUTH", bad)
		if err := config.Load(&authOnly{}); err == nil {
			t.Errorf("DISABLE_AUTH=%s accepted", bad)
		}
	}
}

func TestSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{"6000": 6000 * time.Second, "1": time.Second, "100m": 100 * time.Minute, "1h30m": 90 * time.Minute} {
		var s config.Seconds
		if err := s.Decode(in); err != nil || time.Duration(s) != want {
			t.Errorf("%q: %v %v, want %v", in, time.Duration(s), err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "abc", "-1m", "5 s"} {
		var s config.Seconds
		if err := s.Decode(in); err == nil {
			t.Errorf("%q accepted as %v", in, time.Duration(s))
		}
	}
}

func TestAuthDefaults(t *testing.T) {
	a, err := config.Auth{}.WithDefaults("0.0.0.0:8080")
	if err != nil {
		t.Fatal(err)
	}
	if a.PublicURL != "http://127.0.0.1:8080" || a.AuthServer != "http://127.0.0.1:8080/auth/token/" ||
		a.JWKSURL != "http://127.0.0.1:8080/.well-known/jwks.json" || a.Service() != a.PublicURL || a.Issuer() != a.AuthServer {
		t.Errorf("%+v", a)
	}
	a, err = config.Auth{PublicURL: "https://spack.example.org/", AuthServer: "https://realm.example/token"}.WithDefaults("127.0.0.1:8080")
	if err != nil || a.PublicURL != "https://spack.example.org" || a.AuthServer != "https://realm.example/token" ||
		a.JWKSURL != "https://spack.example.org/.well-known/jwks.json" {
		t.Errorf("%+v %v", a, err)
	}
	for _, bad := range []config.Auth{{PublicURL: "spack.example.org"}, {AuthServer: "/auth/token/"}, {JWKSURL: "ftp://x/jwks"}} {
		if _, err := bad.WithDefaults("127.0.0.1:8080"); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// This realm's revocations are fetched beside its JWKS; an external realm has none unless
// named, since fetching a list it does not serve would refuse every token.
func TestRevocationsURL(t *testing.T) {
	for _, c := range []struct {
		name string
		in   config.Auth
		want string
	}{
		{"this realm", config.Auth{}, "http://127.0.0.1:8080/.well-known/spackmon-revocations.json"},
		{"JWKS inside the cluster", config.Auth{PublicURL: "https://spackmon.example.org", JWKSURL: "http://spackmon-gateway/.well-known/jwks.json"},
			"http://spackmon-gateway/.well-known/spackmon-revocations.json"},
		{"external realm", config.Auth{AuthServer: "https://sso.example.org/token", JWKSURL: "https://sso.example.org/keys"}, ""},
		{"external realm, named", config.Auth{AuthServer: "https://sso.example.org/token", RevocationsURL: "https://sso.example.org/revoked"},
			"https://sso.example.org/revoked"},
	} {
		got, err := c.in.WithDefaults("127.0.0.1:8080")
		if err != nil || got.RevocationsURL != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got.RevocationsURL, err, c.want)
		}
	}
	if _, err := (config.Auth{RevocationsURL: "relative/path"}).WithDefaults("127.0.0.1:8080"); err == nil {
		t.Error("a relative revocations URL accepted")
	}
}

func TestGatewaySecret(t *testing.T) {
	if err := (config.GatewayTrust{GatewaySecret: "short"}).Validate(); err == nil {
		t.Error("a 5-byte gateway secret accepted")
	}
	for _, ok := range []string{"", "0123456789abcdef0123456789abcdef"} {
		if err := (config.GatewayTrust{GatewaySecret: ok}).Validate(); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
