package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeAccount is who a fake provider logs in: it approves every authorization request as
// the account its test set last, with no page of its own.
type fakeAccount struct {
	ID            int64
	Login         string
	Email         string
	EmailVerified bool
}

// fakeGrant is an authorization code handed out and what its exchange must show.
type fakeGrant struct {
	account   fakeAccount
	challenge string
	redirect  string
	nonce     string
}

// fakeProvider is a GitHub (OAuth 2 with PKCE, /user and /user/emails) or an OpenID Connect
// issuer (discovery, PKCE, ID tokens signed with an RSA key it makes, JWKS) on loopback. It
// checks what a real one checks: the client's id and secret, the redirect URI, the code
// used once, and the PKCE verifier against the challenge.
type fakeProvider struct {
	t            testing.TB
	srv          *httptest.Server
	clientID     string
	clientSecret string
	key          *rsa.PrivateKey

	mu      sync.Mutex
	account fakeAccount
	grants  map[string]fakeGrant
	tokens  map[string]fakeAccount
	// exchanges counts the codes exchanged.
	exchanges int
	// AttackerPage, when set, is served at /attack: a page of another site.
	attackerPage string
}

func newFakeProvider(t testing.TB) *fakeProvider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeProvider{t: t, clientID: "spackmon-test", clientSecret: "client-secret-" + strconv.Itoa(time.Now().Nanosecond()),
		key: key, grants: map[string]fakeGrant{}, tokens: map[string]fakeAccount{}}
	mux := http.NewServeMux()
	// GitHub's endpoints.
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", f.exchange)
	mux.HandleFunc("GET /api/user", f.user)
	mux.HandleFunc("GET /api/user/emails", f.emails)
	// An OpenID Connect issuer's.
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /oidc/authorize", f.authorize)
	mux.HandleFunc("POST /oidc/token", f.exchange)
	mux.HandleFunc("GET /oidc/jwks", f.jwks)
	mux.HandleFunc("GET /attack", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(f.attackerPage))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeProvider) issuer() string { return f.srv.URL + "/oidc" }

func (f *fakeProvider) logInAs(a fakeAccount) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.account = a
}

func (f *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != f.clientID || err != nil || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("response_type") != "code" || q.Get("state") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := randomToken(f.t)
	f.mu.Lock()
	f.grants[code] = fakeGrant{account: f.account, challenge: q.Get("code_challenge"), redirect: redirect.String(), nonce: q.Get("nonce")}
	f.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (f *fakeProvider) exchange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	code := r.PostForm.Get("code")
	f.mu.Lock()
	g, found := f.grants[code]
	delete(f.grants, code)
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case id != f.clientID || secret != f.clientSecret:
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	case !found || r.PostForm.Get("redirect_uri") != g.redirect || r.PostForm.Get("grant_type") != "authorization_code":
		writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier"})
		return
	}
	access := randomToken(f.t)
	f.mu.Lock()
	f.tokens[access] = g.account
	f.exchanges++
	f.mu.Unlock()
	answer := map[string]any{"access_token": access, "token_type": "bearer", "expires_in": 3600}
	if r.URL.Path == "/oidc/token" {
		now := time.Now()
		claims := jwt.MapClaims{"iss": f.issuer(), "sub": "oidc-" + strconv.FormatInt(g.account.ID, 10), "aud": f.clientID,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce,
			"email": g.account.Email, "email_verified": g.account.EmailVerified, "preferred_username": g.account.Login}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "test-key"
		signed, err := tok.SignedString(f.key)
		if err != nil {
			f.t.Error(err)
		}
		answer["id_token"] = signed
	}
	writeJSONStatus(w, http.StatusOK, answer)
}

func (f *fakeProvider) accountOf(r *http.Request) (fakeAccount, bool) {
	tok, ok := bearerOf(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	a, known := f.tokens[tok]
	return a, ok && known
}

func bearerOf(r *http.Request) (string, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return "", false
	}
	return h[len(prefix):], true
}

func (f *fakeProvider) user(w http.ResponseWriter, r *http.Request) {
	a, ok := f.accountOf(r)
	if !ok {
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	// GitHub shows the public address here, verified or not.
	writeJSONStatus(w, http.StatusOK, map[string]any{"id": a.ID, "login": a.Login, "email": a.Email})
}

func (f *fakeProvider) emails(w http.ResponseWriter, r *http.Request) {
	a, ok := f.accountOf(r)
	if !ok {
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	writeJSONStatus(w, http.StatusOK, []map[string]any{
		{"email": "other@example.org", "primary": false, "verified": true},
		{"email": a.Email, "primary": true, "verified": a.EmailVerified},
	})
}

func (f *fakeProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"issuer": f.issuer(), "authorization_endpoint": f.issuer() + "/authorize", "token_endpoint": f.issuer() + "/token",
		"jwks_uri": f.issuer() + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func (f *fakeProvider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := f.key.PublicKey
	writeJSONStatus(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "test-key", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func writeJSONStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func randomToken(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// withLogin configures serve's web login against the fake: GitHub and OpenID Connect both.
func (f *fakeProvider) withLogin(c *serveConfig) {
	c.GitHubClientID, c.GitHubClientSecret = f.clientID, f.clientSecret
	c.GitHubURL, c.GitHubAPIURL = f.srv.URL, f.srv.URL+"/api"
	c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret, c.OIDCName = f.issuer(), f.clientID, f.clientSecret, "Test SSO"
}
