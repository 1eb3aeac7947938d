package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/signing"
)

// realmKey is the key the test server signs with.
func realmKey(t testing.TB, srv *testServer) *signing.Key {
	t.Helper()
	k, err := signing.LoadFile(filepath.Join(srv.db.DataDir, signing.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// claimsOf reads the claims of one of the server's tokens without checking them.
func claimsOf(t testing.TB, tok string) *signing.Claims {
	t.Helper()
	var c signing.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// expiredCopy is tok as the realm would have signed it two hours ago, expired an hour ago:
// a genuine token past its lifetime and the leeway.
func expiredCopy(t testing.TB, srv *testServer, tok string) string {
	t.Helper()
	c := claimsOf(t, tok)
	old, err := signing.NewClaims(c.Issuer, c.Subject, c.Audience[0], c.Access, time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	out, err := realmKey(t, srv).Sign(old)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// spackChallenge is Spack's own parsing of a challenge (its regex, A-z range included).
var spackChallenge = regexp.MustCompile(`([a-zA-z]+)="(.+?)"`)

func parseLikeSpack(h string) map[string]string {
	out := map[string]string{}
	for _, m := range spackChallenge.FindAllStringSubmatch(h, -1) {
		out[m[1]] = m[2]
	}
	return out
}

var noAuth = http.Header{"Authorization": nil}

// postAs posts body with the given Authorization header (nil: none).
func (s *testServer) postAs(t testing.TB, path string, body any, auth http.Header) answer {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	maps.Copy(h, auth)
	return s.do(t, http.MethodPost, path, data, h)
}

// wantChallenge checks a 401 (or 403) and its challenge, and returns the challenge as Spack
// reads it.
func wantChallenge(t testing.TB, srv *testServer, a answer, status int, errorCode string) map[string]string {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a.Body)
	}
	if m := a.JSON(t); num(t, m["code"]) != int64(status) || m["message"] == "" {
		t.Errorf("body %s", a.Body)
	}
	h := a.Header.Get("Www-Authenticate")
	got := parseLikeSpack(h)
	want := map[string]string{"realm": srv.realm, "service": srv.URL, "scope": "build"}
	if errorCode != "" {
		want["error"] = errorCode
	}
	if !maps.Equal(got, want) {
		t.Errorf("challenge %q parses to %v, want %v", h, got, want)
	}
	return got
}

// The original server's test: unauthenticated POST → 401 whose challenge Spack's regex
// parses; a token from the realm with Basic; 201 with Bearer. Then the same for the other
// writes, so that no write is open.
func TestAuthFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		ch := wantChallenge(t, srv, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), noAuth), http.StatusUnauthorized, "")
		h := basic(srv.user, srv.apiToken)
		h.Set("Service", ch["service"])
		a := srv.do(t, http.MethodGet, strings.TrimPrefix(ch["realm"], srv.URL), nil, h)
		if a.Status != http.StatusOK || a.Header.Get("Www-Authenticate") != "" {
			t.Fatalf("realm: %d %v %s", a.Status, a.Header, a.Body)
		}
		tok, _ := a.JSON(t)["token"].(string)
		wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok)), http.StatusCreated, "success")

		c := claimsOf(t, tok)
		if c.Subject != srv.user || c.Issuer != srv.URL+"/auth/token/" || len(c.Audience) != 1 || c.Audience[0] != srv.URL ||
			c.ID == "" || c.IssuedAt == nil || c.NotBefore == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) != signing.DefaultTTL ||
			!c.CanBuild() || c.CanAdmin() {
			t.Errorf("claims %+v", c)
		}
		for _, p := range []string{"/ms1/builds/new/", "/ms1/builds/update/", "/ms1/builds/phases/update/", "/ms1/builds/update"} {
			wantChallenge(t, srv, srv.postAs(t, p, map[string]any{"build_id": 1}, noAuth), http.StatusUnauthorized, "")
		}
		// Service info and the read API stay open: Spack crashes when GET /ms1/ is challenged.
		for _, p := range []string{"/ms1/", "/api/v1/builds", "/api/v1/specs", "/.well-known/jwks.json"} {
			if a := srv.do(t, http.MethodGet, p, nil, noAuth); a.Status != http.StatusOK {
				t.Errorf("GET %s without a token: %d %s", p, a.Status, a.Body)
			}
		}
	})
}

// Tokens the realm did not sign, or signed for something else, are refused with
// error="invalid_token".
func TestForgedTokens(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	good := claimsOf(t, srv.bearer)
	key := realmKey(t, srv)
	foreign, err := signing.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(mod func(*signing.Claims)) *signing.Claims {
		c, err := signing.NewClaims(good.Issuer, good.Subject, good.Audience[0], good.Access, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(k *signing.Key, c *signing.Claims) string {
		tok, err := k.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// With the foreign key's signature but the realm key's kid: the signature must fail.
	stolenKID := jwt.NewWithClaims(jwt.SigningMethodEdDSA, fresh(nil))
	stolenKID.Header["kid"] = key.KID()
	_, priv, _ := ed25519.GenerateKey(nil)
	stolen, err := stolenKID.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, fresh(nil))
	none.Header["kid"] = key.KID()
	algNone, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// HS256 keyed with the public key: the classic confusion of asymmetric verifiers.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, fresh(nil))
	hs.Header["kid"] = key.KID()
	pub, _ := key.Public().(ed25519.PublicKey)
	hs256, err := hs.SignedString([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"alg none":      algNone,
		"HS256":         hs256,
		"foreign key":   sign(foreign, fresh(nil)),
		"stolen kid":    stolen,
		"wrong aud":     sign(key, fresh(func(c *signing.Claims) { c.Audience = jwt.ClaimStrings{"http://elsewhere"} })),
		"wrong iss":     sign(key, fresh(func(c *signing.Claims) { c.Issuer = "http://elsewhere/auth/token/" })),
		"expired":       expiredCopy(t, srv, srv.bearer),
		"not yet valid": sign(key, fresh(func(c *signing.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) })),
		"tampered":      srv.bearer[:len(srv.bearer)-4] + "AAAA",
		"not a JWT":     "hello",
		"unknown kid":   unknownKID(t, key, fresh(nil)),
		"another realm": sign(foreign, fresh(func(c *signing.Claims) { c.Issuer = "http://elsewhere/auth/token/" })),
	} {
		t.Run(name, func(t *testing.T) {
			wantChallenge(t, srv, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok)), http.StatusUnauthorized, authn.InvalidToken)
		})
	}
	// The genuine token still works after all that.
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "success")
}

// unknownKID signs with the realm key but names a kid the realm never published.
func unknownKID(t testing.TB, key *signing.Key, c *signing.Claims) string {
	tok, err := key.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	header, _ := json.Marshal(map[string]string{"alg": key.Alg(), "typ": "JWT", "kid": "no-such-key"})
	parts[0] = base64.RawURLEncoding.EncodeToString(header)
	return strings.Join(parts, ".")
}

// The realm answers bad credentials with 401 JSON, never 5xx and never a challenge (Spack
// would ask the realm again without end).
func TestTokenEndpointRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		bob, bobToken := srv.addUser(t, "bob", false)
		carol, carolToken := srv.addUser(t, "carol", false)
		if _, err := userOn(t, srv, "disable", carol); err != nil {
			t.Fatal(err)
		}
		b64 := func(s string) http.Header {
			return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(s))}}
		}
		for name, h := range map[string]http.Header{
			"no header":        noAuth,
			"bearer":           bearerHeader(srv.bearer),
			"malformed base64": {"Authorization": {"Basic !!!notbase64"}},
			"no colon":         b64(srv.user + srv.apiToken),
			"unknown user":     basic("mallory", srv.apiToken),
			"another's token":  basic(bob, srv.apiToken),
			"wrong token":      basic(srv.user, flipLast(srv.apiToken)),
			"not an API token": basic(srv.user, "password"),
			"disabled user":    basic(carol, carolToken),
		} {
			t.Run(name, func(t *testing.T) {
				a := srv.do(t, http.MethodGet, "/auth/token/", nil, h)
				if a.Status != http.StatusUnauthorized || a.Header.Get("Www-Authenticate") != "" {
					t.Fatalf("%d %v %s", a.Status, a.Header, a.Body)
				}
				if m := a.JSON(t); num(t, m["code"]) != 401 || strings.Contains(string(a.Body), srv.apiToken) {
					t.Errorf("body %s", a.Body)
				}
			})
		}
		// Good credentials, with and without the slash.
		srv.token(t, bob, bobToken, "")
		if a := srv.do(t, http.MethodGet, "/auth/token", nil, basic(bob, bobToken)); a.Status != http.StatusOK {
			t.Errorf("without slash: %d %s", a.Status, a.Body)
		}
		if a := srv.do(t, http.MethodPost, "/auth/token/", nil, basic(bob, bobToken)); a.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d %s", a.Status, a.Body)
		}
	})
}

// flipLast changes the last character of an API token's secret to another valid one.
func flipLast(tok string) string {
	last := byte('a')
	if tok[len(tok)-1] == 'a' {
		last = 'b'
	}
	return tok[:len(tok)-1] + string(last)
}

// userOn runs spackmon user against the server's store while it runs.
func userOn(t testing.TB, srv *testServer, args ...string) (string, error) {
	t.Helper()
	if srv.db.URL != "" {
		t.Setenv("SPACKMON_DATABASE_URL", srv.db.URL)
	}
	var out bytes.Buffer
	err := userCommand(context.Background(), &out, append(args, "--data-dir", srv.db.DataDir))
	return out.String(), err
}

// Scopes: what is asked for and allowed is granted, the rest silently left out.
func TestScopes(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	root, rootToken := srv.addUser(t, "root", true)
	for _, c := range []struct {
		user, apiToken, query string
		build, admin          bool
	}{
		{srv.user, srv.apiToken, "", true, false},
		{srv.user, srv.apiToken, "?scope=build,admin", true, false},
		{srv.user, srv.apiToken, "?scope=pull", false, false},
		{root, rootToken, "?scope=build%20admin", true, true},
		{root, rootToken, "?scope=admin", false, true},
	} {
		tok := srv.token(t, c.user, c.apiToken, c.query)
		cl := claimsOf(t, tok)
		if cl.CanBuild() != c.build || cl.CanAdmin() != c.admin {
			t.Errorf("%s %s: access %+v", c.user, c.query, cl.Access)
		}
		a := srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok))
		if c.build && a.Status >= 300 {
			t.Errorf("%s %s: write %d %s", c.user, c.query, a.Status, a.Body)
		}
		if !c.build {
			wantChallenge(t, srv, a, http.StatusForbidden, authn.InsufficientScope)
		}
	}
	// The audience follows the service asked for, in the query or Spack's Service header.
	h := basic(srv.user, srv.apiToken)
	h.Set("Service", "http://other.example")
	a := srv.do(t, http.MethodGet, "/auth/token/", nil, h)
	if aud := claimsOf(t, a.JSON(t)["token"].(string)).Audience; len(aud) != 1 || aud[0] != "http://other.example" {
		t.Errorf("audience %v", aud)
	}
	wantChallenge(t, srv, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(a.JSON(t)["token"].(string))), http.StatusUnauthorized, authn.InvalidToken)
}

// Only the owner of a build (or an admin) may update it.
func TestOwnership(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
		m := wantEnvelope(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusCreated, "")
		id := num(t, path(m, "data", "build", "build_id"))
		bob, bobToken := srv.addUser(t, "bob", false)
		bobs := bearerHeader(srv.token(t, bob, bobToken, ""))
		for p, body := range map[string]any{
			"/ms1/builds/update/":        map[string]any{"build_id": id, "status": "FAILED"},
			"/ms1/builds/phases/update/": map[string]any{"build_id": id, "status": "SUCCESS", "phase_name": "build", "output": "x"},
		} {
			a := srv.postAs(t, p, body, bobs)
			if a.Status != http.StatusForbidden || a.JSON(t)["message"] != "You do not own the build and cannot update it." || num(t, a.JSON(t)["code"]) != 403 {
				t.Errorf("bob posts %s: %d %s", p, a.Status, a.Body)
			}
		}
		if b := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t); b["status"] != "NOTRUN" || len(b["phases"].([]any)) != 0 {
			t.Errorf("bob changed alice's build: %v", b)
		}
		root, rootToken := srv.addUser(t, "root", true)
		roots := bearerHeader(srv.token(t, root, rootToken, "?scope=build,admin"))
		wantEnvelope(t, srv.postAs(t, "/ms1/builds/update/", map[string]any{"build_id": id, "status": "SUCCESS"}, roots), http.StatusOK, "Status updated")
	})
}

// A rotated API token stops working at once; realm tokens already issued keep working until
// they expire, and the new API token works.
func TestRotatedAPIToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		out, err := userOn(t, srv, "rotate", srv.user)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		newToken := lines[len(lines)-1]
		if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic(srv.user, srv.apiToken)); a.Status != http.StatusUnauthorized {
			t.Errorf("old API token: %d %s", a.Status, a.Body)
		}
		tok := srv.token(t, srv.user, newToken, "")
		wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok)), http.StatusCreated, "")
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusOK, "")
	})
}

// A token past its lifetime (and the 60 s leeway) is refused; a fresh one works. The realm
// and the services share a clock the test moves on.
func TestTokenExpiry(t *testing.T) {
	clock := &testClock{}
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) {
		c.TokenTTL = config.Seconds(time.Second)
		c.Clock = clock.now
	})
	a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic(srv.user, srv.apiToken))
	if num(t, a.JSON(t)["expires_in"]) != 1 {
		t.Fatalf("expires_in: %s", a.Body)
	}
	tok := a.JSON(t)["token"].(string)
	wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok)), http.StatusCreated, "")
	clock.advance(claimsOf(t, tok).ExpiresAt.Sub(clock.now()) + signing.Leeway + time.Second)
	wantChallenge(t, srv, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok)), http.StatusUnauthorized, authn.InvalidToken)
	fresh := srv.token(t, srv.user, srv.apiToken, "")
	wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(fresh)), http.StatusOK, "")
}

// testClock is the real clock moved on by the test.
type testClock struct{ ahead atomic.Int64 }

func (c *testClock) now() time.Time { return time.Now().Add(time.Duration(c.ahead.Load())) }

func (c *testClock) advance(d time.Duration) { c.ahead.Add(int64(d)) }

// Failed credential checks are limited per client address and user name: past the
// allowance even good credentials for that name wait, with 429, while other users behind the
// same address are served.
func TestTokenRateLimit(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	bob, bobToken := srv.addUser(t, "bob", false)
	var last answer
	for i := 0; i < 11; i++ {
		last = srv.do(t, http.MethodGet, "/auth/token/", nil, basic(srv.user, "smt_000000000000_wrong"))
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Www-Authenticate") != "" {
		t.Fatalf("11th failure: %d %s", last.Status, last.Body)
	}
	if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic(srv.user, srv.apiToken)); a.Status != http.StatusTooManyRequests {
		t.Errorf("good credentials while limited: %d %s", a.Status, a.Body)
	}
	srv.token(t, bob, bobToken, "")
	// Tokens already held keep working: only the realm is limited.
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
}

// The JWKS publishes the signing key as RFC 7517/8037 say, kid = RFC 7638 thumbprint.
func TestJWKS(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	a := srv.get(t, "/.well-known/jwks.json")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(a.Body, &set); err != nil || a.Status != http.StatusOK || len(set.Keys) != 1 {
		t.Fatalf("%d %s %v", a.Status, a.Body, err)
	}
	key := realmKey(t, srv)
	thumb, err := signing.Thumbprint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	k := set.Keys[0]
	if k["kid"] != thumb || k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["x"] == "" {
		t.Errorf("key %v, want kid %s", k, thumb)
	}
	if _, has := k["y"]; has {
		t.Errorf("an OKP key with y: %v", k)
	}
	if h, _, _ := jwt.NewParser().ParseUnverified(srv.bearer, &signing.Claims{}); h.Header["kid"] != thumb {
		t.Errorf("token kid %v, want %s", h.Header["kid"], thumb)
	}
}

// DISABLE_AUTH keeps the open mode: writes without a token, owned by anonymous.
func TestDisabledAuth(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.DisableAuth = true })
	wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), noAuth), http.StatusCreated, "")
	m := wantEnvelope(t, srv.postAs(t, "/ms1/builds/new/", buildEnv, noAuth), http.StatusCreated, "")
	b := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", num(t, path(m, "data", "build", "build_id")))).JSON(t)
	if b["owner"] != authn.AnonymousUser {
		t.Errorf("owner %v", b["owner"])
	}
}

// PRIVATE_READS makes the read API need a token; service info stays open for Spack.
func TestPrivateReads(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.PrivateReads = true })
	list := srv.do(t, http.MethodGet, "/api/v1/builds", nil, noAuth)
	if list.Status != http.StatusUnauthorized || list.Header.Get("Www-Authenticate") == "" {
		t.Errorf("read without a token: %d %q %s", list.Status, list.Header.Get("Www-Authenticate"), list.Body)
	}
	// A log is read through a stream of its own: its refusal carries the same challenge.
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		a := srv.do(t, method, "/api/v1/builds/1/phases/build/output", nil, noAuth)
		if a.Status != http.StatusUnauthorized || a.Header.Get("Www-Authenticate") != list.Header.Get("Www-Authenticate") {
			t.Errorf("%s of a log without a token: %d, challenge %q, want %q", method, a.Status, a.Header.Get("Www-Authenticate"), list.Header.Get("Www-Authenticate"))
		}
	}
	if a := srv.get(t, "/api/v1/builds"); a.Status != http.StatusOK {
		t.Errorf("read with a token: %d %s", a.Status, a.Body)
	}
	if a := srv.do(t, http.MethodGet, "/ms1/", nil, noAuth); a.Status != http.StatusOK {
		t.Errorf("service info: %d %s", a.Status, a.Body)
	}
}

// An operator points AUTH_SERVER and JWKS_URL at another realm: its tokens are accepted, those
// of a realm with another key refused, even with the same issuer.
func TestExternalRealm(t *testing.T) {
	db := backends[0].database
	second := startServe(t, db(t), nil)
	realm := second.URL + "/auth/token/"
	first := startServe(t, db(t), func(c *serveConfig) { c.AuthServer = realm })
	srv := startServe(t, db(t), func(c *serveConfig) {
		c.AuthServer, c.JWKSURL = realm, second.URL+"/.well-known/jwks.json"
	})
	// The challenge sends clients to the second realm (srv.realm is AUTH_SERVER here).
	wantChallenge(t, srv, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), noAuth), http.StatusUnauthorized, "")
	forService := "?service=" + url.QueryEscape(srv.URL)
	good := second.token(t, second.user, second.apiToken, forService)
	wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(good)), http.StatusCreated, "")
	bad := first.token(t, first.user, first.apiToken, forService)
	if c := claimsOf(t, bad); c.Issuer != realm || c.Audience[0] != srv.URL {
		t.Fatalf("the first realm's token differs in more than its key: %+v", c)
	}
	wantChallenge(t, srv, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(bad)), http.StatusUnauthorized, authn.InvalidToken)
}

// An API token sent where a realm token belongs is refused with what to do with it.
func TestAPITokenAsBearerExplained(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	a := srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(srv.apiToken))
	wantChallenge(t, srv, a, http.StatusUnauthorized, authn.InvalidToken)
	if m := a.JSON(t)["message"]; !strings.Contains(fmt.Sprint(m), "This is an API token") {
		t.Errorf("message %q", m)
	}
	a = srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader("not-a-token"))
	if m := a.JSON(t)["message"]; !strings.Contains(fmt.Sprint(m), "invalid or has expired") {
		t.Errorf("a malformed token: %q", m)
	}
}
