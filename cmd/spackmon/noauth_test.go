package main

import (
	"testing"

	"github.com/spackmon/spackmon/pkg/config"
)

// A gateway with no auth service is only for an external realm: in front of its own realm
// nothing would issue the tokens its challenge sends clients for.
func TestNoAuthRoleNeedsAnExternalRealm(t *testing.T) {
	own, err := config.Auth{PublicURL: "https://spackmon.example.org"}.WithDefaults("127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNoAuthRole(noAuthRole, own); err == nil {
		t.Error("SPACKMON_AUTH_ADDR=none accepted with the gateway's own realm")
	}
	if err := checkNoAuthRole("dns:///spackmon-auth:9091", own); err != nil {
		t.Errorf("an auth address refused: %v", err)
	}
	external, err := config.Auth{PublicURL: "https://spackmon.example.org", AuthServer: "https://realm.example.org/auth/token/",
		JWKSURL: "https://realm.example.org/.well-known/jwks.json"}.WithDefaults("127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNoAuthRole(noAuthRole, external); err != nil {
		t.Errorf("SPACKMON_AUTH_ADDR=none refused with an external realm: %v", err)
	}
}
