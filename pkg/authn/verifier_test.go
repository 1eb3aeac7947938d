package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/signing"
)

const (
	issuer   = "https://realm.example/auth/token/"
	audience = "spackmon"
	ttl      = 100 * time.Minute
)

// realm serves the JWKS of a key set over loopback HTTP, with a clock of its own for the
// retention of rotated keys and a switch that makes it fail.
type realm struct {
	t       testing.TB
	keys    *signing.KeySet
	srv     *httptest.Server
	fetches atomic.Int64
	mode    atomic.Value // "ok", "500", "garbage"

	mu  sync.Mutex
	now time.Time
}

func newRealm(t testing.TB, key *signing.Key) *realm {
	t.Helper()
	ks, err := signing.NewKeySet(key, ttl)
	if err != nil {
		t.Fatal(err)
	}
	r := &realm{t: t, keys: ks, now: time.Now()}
	r.mode.Store("ok")
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.fetches.Add(1)
		switch r.mode.Load().(string) {
		case "500":
			http.Error(w, "down", http.StatusInternalServerError)
			return
		case "garbage":
			_, _ = io.WriteString(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"!!"}]`)
			return
		}
		r.mu.Lock()
		now := r.now
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.keys.JWKS(now))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *realm) url() string { return r.srv.URL + "/.well-known/jwks.json" }

func (r *realm) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func (r *realm) token(sub string) string {
	r.t.Helper()
	tok, _, err := r.keys.Issue(issuer, signing.Subject{Name: sub}, audience, []signing.Access{signing.BuildAccess()}, time.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	return tok
}

func verifier(t *testing.T, url string, opts ...authn.VerifierOption) *authn.Verifier {
	t.Helper()
	opts = append([]authn.VerifierOption{authn.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	v, err := authn.NewVerifier(t.Context(), url, issuer, audience, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func claims(t *testing.T, mod func(*signing.Claims)) *signing.Claims {
	t.Helper()
	c, err := signing.NewClaims(issuer, "alice", audience, []signing.Access{signing.BuildAccess()}, time.Now(), ttl)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func mustKey(t testing.TB) (*signing.Key, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := signing.NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k, priv
}

// raw signs claims with any method and key, setting kid when it is not empty.
func raw(t *testing.T, m jwt.SigningMethod, kid string, c jwt.Claims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustVerify(t *testing.T, v *authn.Verifier, tok string) *authn.Principal {
	t.Helper()
	p, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	return p
}

func mustRefuse(t *testing.T, v *authn.Verifier, tok string) {
	t.Helper()
	p, err := v.Verify(t.Context(), tok)
	if err == nil {
		t.Fatalf("token accepted for %q", p.Name)
	}
	if !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("error %v does not wrap ErrInvalidToken", err)
	}
}

func TestVerifyGoodToken(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	v := verifier(t, r.url())
	p := mustVerify(t, v, r.token("alice"))
	id := p.Identity()
	if p.Name != "alice" || id.ExpiresAt.IsZero() || id.WebSession {
		t.Fatalf("principal %+v, identity %+v", p, id)
	}
	if id.ExpiresAt = (time.Time{}); id != (authn.Identity{Name: "alice"}) {
		t.Fatalf("identity %+v", id)
	}
	if !p.CanBuild() || !p.Allows(signing.TypeBuild, "any", signing.ActionBuild) || p.Allows("build", "*", "delete") {
		t.Fatal("scopes not as granted")
	}
	// A token without access verifies but grants nothing.
	noAccess, err := r.keys.Sign(claims(t, func(c *signing.Claims) { c.Access = nil }))
	if err != nil {
		t.Fatal(err)
	}
	if mustVerify(t, v, noAccess).CanBuild() {
		t.Fatal("token without access can build")
	}
}

func TestVerifyES256(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signing.NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	r := newRealm(t, key)
	v := verifier(t, r.url())
	mustVerify(t, v, r.token("carol"))
	// ES256 claimed in the header with the kid of an Ed25519 key of the set.
	edKey, _ := mustKey(t)
	if err := r.keys.Rotate(edKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, v, r.token("carol")) // unknown kid: fetched
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	mustRefuse(t, v, raw(t, jwt.SigningMethodES256, edKey.KID(), claims(t, nil), priv))
	mustRefuse(t, v, raw(t, jwt.SigningMethodES384, key.KID(), claims(t, nil), p384))
}

func TestVerifyRefusals(t *testing.T) {
	key, priv := mustKey(t)
	r := newRealm(t, key)
	v := verifier(t, r.url())
	sign := func(mod func(*signing.Claims)) string {
		tok, err := r.keys.Sign(claims(t, mod))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	pub := priv.Public().(ed25519.PublicKey)
	foreign, foreignPriv := mustKey(t)
	var err error

	// Within the leeway an expired token still passes; beyond it, not.
	mustVerify(t, v, sign(func(c *signing.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-30 * time.Second)) }))
	mustVerify(t, v, sign(func(c *signing.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(30 * time.Second)) }))

	cases := map[string]string{
		"expired beyond leeway": sign(func(c *signing.Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-2 * time.Minute))
		}),
		"nbf in the future": sign(func(c *signing.Claims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(5 * time.Minute))
		}),
		"wrong aud": sign(func(c *signing.Claims) { c.Audience = jwt.ClaimStrings{"other-service"} }),
		"wrong iss": sign(func(c *signing.Claims) { c.Issuer = "https://evil.example/" }),
		"no sub":    raw(t, jwt.SigningMethodEdDSA, key.KID(), claims(t, func(c *signing.Claims) { c.Subject = "" }), priv),
		"alg none":  raw(t, jwt.SigningMethodNone, key.KID(), claims(t, nil), jwt.UnsafeAllowNoneSignatureType),
		"HS256 keyed with the public key": raw(t, jwt.SigningMethodHS256, key.KID(), claims(t, nil),
			[]byte(pub)),
		"HS256 keyed with the JWK x": raw(t, jwt.SigningMethodHS256, key.KID(), claims(t, nil),
			[]byte(key.JWK().X)),
		"foreign key, same kid":    raw(t, jwt.SigningMethodEdDSA, key.KID(), claims(t, nil), foreignPriv),
		"foreign key, unknown kid": raw(t, jwt.SigningMethodEdDSA, foreign.KID(), claims(t, nil), foreignPriv),
		"no kid":                   raw(t, jwt.SigningMethodEdDSA, "", claims(t, nil), priv),
		"not a JWT":                "not.a.jwt",
		"empty":                    "",
	}
	// A token without exp, which Sign refuses to make.
	noExp := claims(t, nil)
	noExp.ExpiresAt = nil
	cases["no exp"] = raw(t, jwt.SigningMethodEdDSA, key.KID(), noExp, priv)
	// A crit header this verifier does not understand.
	crit := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(t, nil))
	crit.Header["kid"], crit.Header["crit"], crit.Header["x-ext"] = key.KID(), []string{"x-ext"}, true
	if cases["crit header"], err = crit.SignedString(priv); err != nil {
		t.Fatal(err)
	}
	// Times as strings, which the jwt library would otherwise read as numbers.
	for _, claim := range []string{"exp", "nbf", "iat"} {
		m := jwt.MapClaims{"iss": issuer, "sub": "alice", "aud": audience, "exp": now.Add(time.Hour).Unix(),
			"nbf": now.Unix(), "iat": now.Unix(), "access": []signing.Access{signing.BuildAccess()}}
		m[claim] = strconv.FormatInt(m[claim].(int64), 10)
		cases["string "+claim] = raw(t, jwt.SigningMethodEdDSA, key.KID(), m, priv)
	}
	// The payload of a good token under the signature of another one.
	good, other := r.token("alice"), r.token("mallory")
	cases["spliced signature"] = good[:len(good)-86] + other[len(other)-86:]

	for name, tok := range cases {
		t.Run(name, func(t *testing.T) { mustRefuse(t, v, tok) })
	}
	mustVerify(t, v, good)
}

func TestNewVerifierArguments(t *testing.T) {
	for _, args := range [][3]string{
		{"http://127.0.0.1:1/jwks", "", audience},
		{"http://127.0.0.1:1/jwks", issuer, ""},
		{"/relative/jwks", issuer, audience},
		{"ftp://host/jwks", issuer, audience},
	} {
		if _, err := authn.NewVerifier(t.Context(), args[0], args[1], args[2]); err == nil {
			t.Errorf("NewVerifier%v accepted", args)
		}
	}
}

func TestRotation(t *testing.T) {
	oldKey, _ := mustKey(t)
	r := newRealm(t, oldKey)
	// The background refresh is far away: only an unknown kid makes the verifier fetch.
	v := verifier(t, r.url(), authn.WithRefreshInterval(time.Hour), authn.WithUnknownKIDInterval(time.Hour))
	oldTok := r.token("alice")
	mustVerify(t, v, oldTok)
	if n := r.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches at start", n)
	}

	newKey, _ := mustKey(t)
	if err := r.keys.Rotate(newKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	newTok := r.token("alice")
	start := time.Now()
	mustVerify(t, v, newTok)
	if n := r.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after the unknown kid, want 2", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("unknown kid took %v", d)
	}
	// The refreshed set still publishes the previous key, so its tokens still verify.
	mustVerify(t, v, oldTok)
	mustVerify(t, v, newTok)

	// Another unknown kid within the rate limit is refused at once, without a fetch.
	stranger, strangerPriv := mustKey(t)
	start = time.Now()
	mustRefuse(t, v, raw(t, jwt.SigningMethodEdDSA, stranger.KID(), claims(t, nil), strangerPriv))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("rate-limited unknown kid blocked for %v", d)
	}
	if n := r.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, the rate limit let a refresh through", n)
	}
}

// The tokens of a new key arriving together all wait for the one fetch their kid causes.
func TestRotationBurst(t *testing.T) {
	oldKey, _ := mustKey(t)
	r := newRealm(t, oldKey)
	v := verifier(t, r.url(), authn.WithRefreshInterval(time.Hour), authn.WithUnknownKIDInterval(time.Hour))
	mustVerify(t, v, r.token("alice"))
	newKey, _ := mustKey(t)
	if err := r.keys.Rotate(newKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	tok := r.token("alice")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := r.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// Once the realm stops publishing a retired key, a refresh drops it from the verifier too.
func TestRetiredKeyDropped(t *testing.T) {
	oldKey, _ := mustKey(t)
	r := newRealm(t, oldKey)
	v := verifier(t, r.url(), authn.WithRefreshInterval(20*time.Millisecond))
	oldTok := r.token("alice")
	mustVerify(t, v, oldTok)
	newKey, _ := mustKey(t)
	if err := r.keys.Rotate(newKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, v, r.token("alice"))
	mustVerify(t, v, oldTok)

	r.advance(ttl + signing.Leeway + time.Minute)
	waitFetches(t, r, 2)
	mustRefuse(t, v, oldTok)
	mustVerify(t, v, r.token("alice"))
}

func waitFetches(t *testing.T, r *realm, more int64) {
	t.Helper()
	target := r.fetches.Load() + more
	deadline := time.Now().Add(10 * time.Second)
	for r.fetches.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("no background refresh: %d fetches", r.fetches.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// failedFetches counts the verifier's logged JWKS fetch failures.
type failedFetches struct{ n atomic.Int64 }

func (f *failedFetches) Enabled(context.Context, slog.Level) bool { return true }
func (f *failedFetches) WithAttrs([]slog.Attr) slog.Handler       { return f }
func (f *failedFetches) WithGroup(string) slog.Handler            { return f }
func (f *failedFetches) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "JWKS fetch failed") {
		f.n.Add(1)
	}
	return nil
}

// waitFailures waits until the verifier has logged more failed fetches.
func (f *failedFetches) waitFailures(t *testing.T, more int64) {
	t.Helper()
	target := f.n.Load() + more
	deadline := time.Now().Add(10 * time.Second)
	for f.n.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("no failed background refresh: %d failures", f.n.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeepsLastGoodSet(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	failures := &failedFetches{}
	v := verifier(t, r.url(), authn.WithRefreshInterval(20*time.Millisecond), authn.WithLogger(slog.New(failures)))
	tok := r.token("alice")
	mustVerify(t, v, tok)

	for _, mode := range []string{"500", "garbage"} {
		r.mode.Store(mode)
		failures.waitFailures(t, 3)
		mustVerify(t, v, tok)
	}
	r.mode.Store("ok")

	// The server going away altogether.
	r.srv.Close()
	failures.waitFailures(t, 3)
	mustVerify(t, v, tok)
	mustVerify(t, v, r.token("bob"))
}

// The realm may come up after the services that trust it.
func TestRealmStartsLater(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	r.mode.Store("500")
	v := verifier(t, r.url(), authn.WithRefreshInterval(time.Hour))
	tok := r.token("alice")
	r.mode.Store("ok")
	mustVerify(t, v, tok) // unknown kid: fetched now
}

// Verifications racing with background refreshes of a set that changes under them.
func TestVerifyConcurrent(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	v := verifier(t, r.url(), authn.WithRefreshInterval(5*time.Millisecond))
	tok := r.token("alice")
	mustVerify(t, v, tok)
	// The loops stop on their own context; a Verify under way when it ends must still succeed,
	// so it gets the test's.
	stop, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for stop.Err() == nil {
				if _, err := v.Verify(t.Context(), tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for stop.Err() == nil {
			k, err := signing.GenerateEd25519()
			if err == nil {
				err = r.keys.Rotate(k, time.Now())
			}
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	wg.Wait()
}
