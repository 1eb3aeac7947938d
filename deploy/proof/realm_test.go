package proof

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/signing"
)

// externalRealm is a realm outside the deployment, as the external-realm component expects:
// it publishes its keys and issues build tokens to the user it knows.
func externalRealm(t *testing.T, user, token string) *httptest.Server {
	key, err := signing.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []signing.JWK{key.JWK()}})
	})
	mux.HandleFunc("GET /auth/token/", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != token {
			http.Error(w, "unknown credentials", http.StatusUnauthorized)
			return
		}
		// The deployment names this realm by the address the test gave it.
		issuer := "http://" + r.Host + "/auth/token/"
		claims, err := signing.NewClaims(issuer, user, r.Header.Get("Service"), []signing.Access{signing.BuildAccess()}, time.Now(), 10*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok, err := key.Sign(claims)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 600})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestWithAnExternalRealm(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	m := build(t, "production-external-realm")
	for _, d := range m.Deployments {
		if role(d) == "auth" {
			t.Fatalf("%s deployed with an external realm", d.Name)
		}
	}
	realm := externalRealm(t, "spacker", "realm-secret")
	secrets := operatorSecrets(t, emptyDatabase(t))
	delete(secrets, "spackmon-signing-key")
	d, err := runOverlayWith(t, bin, m, secrets, nil, 60*time.Second, map[string]string{"realm.example.org:443": strings.TrimPrefix(realm.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	base := d.runner.Translate(nil, "", "https://spackmon.example.org")
	status, body, challenge, err := send(http.MethodPost, base+"/ms1/specs/new/", "{}", "")
	if err != nil || status != http.StatusUnauthorized || !strings.Contains(challenge, `realm="`+realm.URL+`/auth/token/"`) {
		t.Fatalf("a write without a token: %d %s, challenge %q (%v); want 401 naming the external realm", status, body, challenge, err)
	}
	if err := replaySession(t, base, "spacker", "realm-secret", "v0.18-install.jsonl", func(u string) string { return d.runner.Translate(nil, "", u) }); err != nil {
		t.Fatalf("replay with the external realm's tokens: %v\n%s", err, d.runner.Logs())
	}
	wantBuilds(t, base, 2)
}
