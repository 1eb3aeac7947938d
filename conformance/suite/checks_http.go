package suite

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// writeRoutes are every /ms1 POST of PROTOCOL.md §4.
var writeRoutes = []string{"/specs/new/", "/builds/new/", "/builds/update/", "/builds/phases/update/", "/analyze/builds/"}

func serviceInfo(r *runner, n *Node) {
	var info map[string]any
	r.check(n, "GET /ms1/ answers 200 JSON without a token and without a challenge", func(t *T) {
		a := t.get(r.route("/"), nil)
		if a.Status != http.StatusOK {
			t.Fatalf("status %s, want 200", a)
		}
		if h := a.Header.Get("Www-Authenticate"); h != "" {
			t.Errorf("challenged with %q: Spack crashes on a challenge here", h)
		}
		if !isJSON(a) {
			t.Errorf("Content-Type %q, want application/json", a.Header.Get("Content-Type"))
		}
		info = t.object(a)
	})
	r.check(n, "GET /ms1 (no trailing slash) answers the same", func(t *T) {
		a := t.get(r.cfg.Prefix, nil)
		if a.Status != http.StatusOK {
			t.Fatalf("status %s, want 200", a)
		}
		t.equal("id", at(t.object(a), "id"), "spackmon")
	})
	r.check(n, "GET /ms1/ is not challenged even with an invalid bearer", func(t *T) {
		a := t.get(r.route("/"), bearerHeader("not-a-token"))
		if a.Status != http.StatusOK || a.Header.Get("Www-Authenticate") != "" {
			t.Errorf("answered %s with challenge %q, want 200 and none", a, a.Header.Get("Www-Authenticate"))
		}
	})
	r.check(n, "id is \"spackmon\" and status is \"running\"", func(t *T) {
		t.Need(info != nil, "the service info")
		t.equal("id", info["id"], "spackmon")
		t.equal("status", info["status"], "running")
	})
	r.check(n, "the required fields are present and not enveloped", func(t *T) {
		t.Need(info != nil, "the service info")
		for _, k := range []string{"name", "description", "contactUrl", "documentationUrl", "createdAt", "updatedAt",
			"environment", "version", "auth_instructions_url"} {
			if s, ok := info[k].(string); !ok || s == "" {
				t.Errorf("%s is %v, want a non-empty string", k, info[k])
			}
		}
		for _, k := range []string{"name", "url"} {
			if _, ok := at(info, "organization", k).(string); !ok {
				t.Errorf("organization.%s is %v, want a string", k, at(info, "organization", k))
			}
		}
		if _, ok := info["data"]; ok {
			t.Errorf("service info is wrapped in an envelope: %v", info)
		}
	})
}

func transport(r *runner, n *Node) {
	for _, route := range writeRoutes {
		r.check(n, "POST /ms1"+route+" with and without its slash is challenged, never redirected", func(t *T) {
			for _, p := range []string{route, strings.TrimSuffix(route, "/")} {
				a := t.post(r.route(p), map[string]any{}, nil)
				if a.Status >= 300 && a.Status < 400 {
					t.Errorf("POST %s redirected (%d to %q): Spack cannot follow it", p, a.Status, a.Header.Get("Location"))
				} else if a.Status != http.StatusUnauthorized {
					t.Errorf("POST %s without a token: %s, want 401", p, a)
				}
			}
		})
	}
	doc := r.pkg("transport", "1.0")
	body := r.specBody(nodesDoc(3, doc))
	for _, ct := range []string{"application/x-www-form-urlencoded", "application/json", "", "text/plain; charset=utf-8"} {
		label := ct
		if label == "" {
			label = "no Content-Type"
		}
		r.check(n, "a JSON body labelled "+label+" is read as JSON", func(t *T) {
			data, _ := t.created(t.postTyped(r.route("/specs/new/"), body, ct, bearerHeader(t.login())))
			t.equal("data.spec.full_hash", at(data, "spec", "full_hash"), doc.fullHash)
		})
	}
	r.check(n, "an authenticated POST without its slash is served, not redirected", func(t *T) {
		t.created(t.post(r.route("/specs/new"), body, bearerHeader(t.login())))
	})
	r.check(n, "an unknown route: 404 JSON", func(t *T) {
		t.wantError(t.get(r.route("/no/such/route/"), nil), http.StatusNotFound, "")
		t.wantError(t.post(r.route("/no/such/route/"), map[string]any{}, bearerHeader(t.login())), http.StatusNotFound, "")
	})
	r.check(n, "a write route read with GET: 405 JSON", func(t *T) {
		t.wantError(t.get(r.route("/specs/new/"), nil), http.StatusMethodNotAllowed, "")
	})
	r.check(n, "a write route asked to DELETE: 405 JSON", func(t *T) {
		t.wantError(t.Do(request{method: http.MethodDelete, path: r.route("/builds/new/")}), http.StatusMethodNotAllowed, "")
	})
	r.check(n, "service info posted to: 405 JSON", func(t *T) {
		t.wantError(t.post(r.route("/"), map[string]any{}, nil), http.StatusMethodNotAllowed, "")
	})
	r.check(n, "invalid JSON: 400 JSON with a message", func(t *T) {
		t.bad400(t.write("/builds/new/", []byte(`{"full_hash": `)), "")
	})
	r.check(n, "a body over the limit: 413 JSON", func(t *T) {
		if r.cfg.MaxBodyBytes <= 0 {
			t.Skipf("%s", SkipNoBodyLimit)
		}
		big := map[string]any{"build_id": 1, "phase_name": "x", "status": "SUCCESS",
			"output": strings.Repeat("x", int(r.cfg.MaxBodyBytes)+1)}
		t.wantError(t.write("/builds/phases/update/", big), http.StatusRequestEntityTooLarge, "")
	})
}

// authentication checks the token dance of PROTOCOL.md §3, in the order Spack meets it: the
// challenge, the realm, the bearer, and the bearers the services must refuse.
func authentication(r *runner, n *Node) {
	writesWithoutTokenChallenged(r, n)
	challengeIgnoresRequestHost(r, n)
	realm := n.Group("the realm (token endpoint)")
	realmGrantsToken(r, realm)
	realmServesWithoutSlash(r, realm)
	realmTakesServiceAndScopeInQuery(r, realm)
	realmTokenIsAsymmetricJWT(r, realm)
	jwksPublishesTokenKey(r, realm)
	realmRefusesBadCredentials(r, realm)
	bearerAuthorizesWrites(r, n)
	badBearersRefused(r, n)
	tokenWithoutBuildScopeForbidden(r, n)
}

// writesWithoutTokenChallenged also learns the realm and service from the first challenge,
// for every later check.
func writesWithoutTokenChallenged(r *runner, n *Node) {
	st := r.st
	ch := n.Group("a write without a token: 401 and a challenge Spack can read")
	for _, route := range writeRoutes {
		r.check(ch, "POST /ms1"+route, func(t *T) {
			a := t.post(r.route(route), map[string]any{"build_id": 1}, nil)
			c := t.challenge(a, http.StatusUnauthorized, "")
			if route == "/specs/new/" && c["realm"] != "" {
				st.realm, st.service = c["realm"], c["service"]
			}
		})
	}
}

func challengeIgnoresRequestHost(r *runner, n *Node) {
	st := r.st
	r.check(n, "the realm is not taken from the request's Host or X-Forwarded-Host", func(t *T) {
		t.Need(st.realm != "", "the realm from a challenge")
		h := http.Header{"Host": {"conformance-host.invalid"}, "X-Forwarded-Host": {"conformance-fwd.invalid"}}
		a := t.post(r.route("/specs/new/"), map[string]any{}, h)
		c := t.challenge(a, http.StatusUnauthorized, "")
		if strings.Contains(c["realm"], ".invalid") || strings.Contains(c["service"], ".invalid") {
			t.Errorf("the challenge follows the request's host: %q", a.Header.Get("Www-Authenticate"))
		}
	})

}

// realmGrantsToken also keeps the answer and its token for the later checks.
func realmGrantsToken(r *runner, realm *Node) {
	st := r.st
	r.check(realm, "Basic credentials and the Service header get a token", func(t *T) {
		t.Need(st.realm != "", "the realm from a challenge")
		h := basicHeader(r.cfg.User, r.cfg.Token)
		h.Set("Service", st.service)
		a := t.realmGet(st.realm, h)
		if a.Status != http.StatusOK {
			t.Fatalf("status %s, want 200", a)
		}
		if c := a.Header.Get("Www-Authenticate"); c != "" {
			t.Errorf("the realm answered with a challenge %q", c)
		}
		m := t.object(a)
		for _, k := range []string{"token", "access_token"} {
			if s, _ := m[k].(string); s == "" {
				t.Errorf("%s is %v, want a JWT", k, m[k])
			} else {
				r.addSecret(s)
			}
		}
		if e, ok := intOf(m["expires_in"]); !ok || e <= 0 {
			t.Errorf("expires_in %v, want a positive number of seconds", m["expires_in"])
		}
		if s, _ := m["issued_at"].(string); s == "" {
			t.Errorf("issued_at %v, want an RFC 3339 time", m["issued_at"])
		} else if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Errorf("issued_at %q is not RFC 3339: %v", s, err)
		}
		st.tokenAnswer = m
		st.token, _ = m["token"].(string)
	})
}

func realmServesWithoutSlash(r *runner, realm *Node) {
	st := r.st
	r.check(realm, "the realm answers without its trailing slash too", func(t *T) {
		t.Need(st.realm != "", "the realm from a challenge")
		a := t.realmGet(toggleSlash(st.realm), basicHeader(r.cfg.User, r.cfg.Token))
		if a.Status != http.StatusOK {
			t.Errorf("GET %s: %s, want 200", toggleSlash(st.realm), a)
		}
	})
}

func realmTakesServiceAndScopeInQuery(r *runner, realm *Node) {
	st := r.st
	r.check(realm, "service and scope in the query; asking for more than build is not an error", func(t *T) {
		t.Need(st.realm != "", "the realm from a challenge")
		for _, scope := range []string{"build", "build,admin", "build admin"} {
			q := url.Values{"service": {st.service}, "scope": {scope}}
			a := t.realmGet(withQuery(st.realm, q), basicHeader(r.cfg.User, r.cfg.Token))
			if a.Status != http.StatusOK {
				t.Errorf("scope %q: %s, want 200", scope, a)
				continue
			}
			tok, _ := t.object(a)["token"].(string)
			r.addSecret(tok)
			if w := t.post(r.route("/specs/new/"), r.specBody(nodesDoc(3, r.pkg("scope", "1.0"))), bearerHeader(tok)); w.Status >= 300 {
				t.Errorf("a write with the token for scope %q: %s", scope, w)
			}
		}
	})
}

func realmTokenIsAsymmetricJWT(r *runner, realm *Node) {
	st := r.st
	r.check(realm, "the token is an asymmetric JWT with the protocol's claims", func(t *T) {
		t.Need(st.tokenAnswer != nil, "a token")
		tok, _ := st.tokenAnswer["token"].(string)
		header, claims, err := decodeJWT(tok)
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		if alg, _ := header["alg"].(string); alg != "EdDSA" && alg != "ES256" {
			t.Errorf("alg %q, want EdDSA or ES256 (never HS*)", alg)
		}
		if kid, _ := header["kid"].(string); kid == "" {
			t.Errorf("no kid in the header %v", header)
		} else {
			st.kid = kid
		}
		for _, k := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"} {
			if claims[k] == nil {
				t.Errorf("claim %s is missing", k)
			}
		}
		t.equal("sub", claims["sub"], r.cfg.User)
		if !audienceHas(claims["aud"], st.service) {
			t.Errorf("aud %v, want %q (the service of the challenge)", claims["aud"], st.service)
		}
		if !grantsBuild(claims["access"]) {
			t.Errorf("access %v, want [{type: build, name: *, actions: [build]}]", claims["access"])
		}
		exp, ok1 := intOf(claims["exp"])
		iat, ok2 := intOf(claims["iat"])
		ttl, ok3 := intOf(st.tokenAnswer["expires_in"])
		if ok1 && ok2 && ok3 && (exp-iat < ttl-5 || exp-iat > ttl+5) {
			t.Errorf("exp - iat = %d s, but expires_in says %d", exp-iat, ttl)
		}
	})
}

func jwksPublishesTokenKey(r *runner, realm *Node) {
	st := r.st
	r.check(realm, "the JWKS publishes the token's key", func(t *T) {
		t.Need(st.kid != "", "a token's kid")
		keys := map[string]bool{}
		for _, base := range jwksPlaces(r.cfg.URL, st.realm) {
			a := t.get(base+"/.well-known/jwks.json", nil)
			if a.Status != http.StatusOK {
				continue
			}
			for _, k := range asList(at(t.object(a), "keys")) {
				if kid, _ := at(k, "kid").(string); kid != "" {
					keys[kid] = true
				}
			}
		}
		if !keys[st.kid] {
			t.Errorf("kid %q is not in /.well-known/jwks.json (keys %v)", st.kid, keys)
		}
	})

}

// realmRefusesBadCredentials: a realm that challenged would make Spack ask it again without
// end, and one that answered 5xx would make it give up on a typo.
func realmRefusesBadCredentials(r *runner, realm *Node) {
	st := r.st
	refused := realm.Group("bad credentials: 401 JSON, never 5xx, never a challenge")
	b64 := func(s string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(s))}}
	}
	for _, c := range []struct {
		name string
		h    func() http.Header
	}{
		{"no Authorization header", func() http.Header { return nil }},
		{"a bearer instead of Basic", func() http.Header { return bearerHeader(st.token) }},
		{"malformed base64", func() http.Header { return http.Header{"Authorization": {"Basic !!!notbase64"}} }},
		{"no colon", func() http.Header { return b64(r.cfg.User + r.cfg.Token) }},
		{"a wrong API token", func() http.Header { return basicHeader(r.cfg.User, flipLast(r.cfg.Token)) }},
		{"an unknown user", func() http.Header { return basicHeader("conf-nobody-"+r.cfg.RunID, r.cfg.Token) }},
		{"an empty API token", func() http.Header { return basicHeader(r.cfg.User, "") }},
		{"an oversized API token", func() http.Header { return basicHeader(r.cfg.User, strings.Repeat("a", 16<<10)) }},
		{"a user name that is not UTF-8", func() http.Header { return basicHeader("\xff\xfe", r.cfg.Token) }},
	} {
		r.check(refused, c.name, func(t *T) {
			t.Need(st.realm != "", "the realm from a challenge")
			a := t.realmGet(st.realm, c.h())
			if a.Status >= 500 {
				t.Fatalf("a client mistake answered %s", a)
			}
			t.wantError(a, http.StatusUnauthorized, "")
			if h := a.Header.Get("Www-Authenticate"); h != "" {
				t.Errorf("the realm challenged (%q): Spack would ask the realm again without end", h)
			}
			if strings.Contains(string(a.Body), r.cfg.Token) {
				t.Errorf("the answer echoes the API token")
			}
		})
	}

}

func bearerAuthorizesWrites(r *runner, n *Node) {
	r.check(n, "a bearer from the realm authorizes a write", func(t *T) {
		a := t.post(r.route("/specs/new/"), r.specBody(nodesDoc(3, r.pkg("bearer", "1.0"))), bearerHeader(t.login()))
		t.created(a)
	})
	r.check(n, "several tokens of one user are valid at once", func(t *T) {
		first := t.login()
		second := t.dance(r.cfg.User, r.cfg.Token)
		body := r.specBody(nodesDoc(3, r.pkg("bearer", "1.0")))
		for i, tok := range []string{first, second, first} {
			if a := t.post(r.route("/specs/new/"), body, bearerHeader(tok)); a.Status != http.StatusOK {
				t.Errorf("write %d with token %d: %s, want 200 (a repeat)", i+1, i%2+1, a)
			}
		}
	})

}

func badBearersRefused(r *runner, n *Node) {
	st := r.st
	forged := n.Group("a bad bearer: 401 with error=\"invalid_token\"")
	for _, c := range []struct {
		name string
		tok  func(t *T) string
	}{
		{"not a JWT", func(*T) string { return "hello" }},
		{"a tampered signature", func(t *T) string { tok := t.login(); return tok[:len(tok)-4] + flipTail(tok[len(tok)-4:]) }},
		{"claims changed under the real signature", func(t *T) string { return reclaim(t, t.login(), "sub", "conf-intruder") }},
		{"alg none", func(t *T) string { return algNone(t, t.login()) }},
		{"HS256 with a guessable key", func(t *T) string { return hs256(t, t.login()) }},
		{"expired long ago", func(t *T) string { return reclaim(t, t.login(), "exp", json.Number("1000000000")) }},
		{"a token for another service", func(t *T) string {
			t.Need(st.realm != "", "the realm from a challenge")
			h := basicHeader(r.cfg.User, r.cfg.Token)
			h.Set("Service", "http://conformance.invalid")
			a := t.realmGet(withQuery(st.realm, url.Values{"service": {"http://conformance.invalid"}}), h)
			tok, _ := t.object(a)["token"].(string)
			if a.Status != http.StatusOK || tok == "" {
				t.Skipf("the realm does not issue tokens for other services: %s", a)
			}
			r.addSecret(tok)
			return tok
		}},
	} {
		r.check(forged, c.name, func(t *T) {
			tok := c.tok(t)
			a := t.post(r.route("/specs/new/"), r.specBody(nodesDoc(3, r.pkg("forged", "1.0"))), bearerHeader(tok))
			t.challenge(a, http.StatusUnauthorized, "invalid_token")
		})
	}
	// An empty bearer carries no token at all, so RFC 6750 wants the plain challenge.
	r.check(n, "an empty bearer: 401 and a challenge", func(t *T) {
		a := t.post(r.route("/specs/new/"), r.specBody(nodesDoc(3, r.pkg("forged", "1.0"))), bearerHeader(""))
		t.challenge(a, http.StatusUnauthorized, "")
	})
}

func tokenWithoutBuildScopeForbidden(r *runner, n *Node) {
	st := r.st
	r.check(n, "a token without the build scope: 403 with error=\"insufficient_scope\"", func(t *T) {
		t.Need(st.realm != "", "the realm from a challenge")
		a := t.realmGet(withQuery(st.realm, url.Values{"service": {st.service}, "scope": {"pull"}}), basicHeader(r.cfg.User, r.cfg.Token))
		if a.Status != http.StatusOK {
			t.Fatalf("asking for scope pull: %s, want 200 (the intersection, possibly empty)", a)
		}
		tok, _ := t.object(a)["token"].(string)
		r.addSecret(tok)
		w := t.post(r.route("/specs/new/"), r.specBody(nodesDoc(3, r.pkg("scope", "1.0"))), bearerHeader(tok))
		t.challenge(w, http.StatusForbidden, "insufficient_scope")
	})
}

// challenge checks a refused write: status, JSON error and a Www-Authenticate that Spack's
// regex reads as realm (absolute), service, scope=build and, when given, error.
func (t *T) challenge(a *Response, status int, errorCode string) map[string]string {
	if a.Status != status {
		t.Fatalf("status %s, want %d", a, status)
	}
	t.errorBody(a, "")
	h := a.Header.Get("Www-Authenticate")
	if !strings.HasPrefix(h, "Bearer ") {
		t.Errorf("Www-Authenticate %q does not start with \"Bearer \"", h)
	}
	c := parseChallenge(h)
	if err := absoluteURL(c["realm"]); err != nil {
		t.Errorf("realm in %q: %v", h, err)
	}
	if c["service"] == "" {
		t.Errorf("no service in %q", h)
	}
	t.equal("scope", c["scope"], "build")
	if errorCode != "" {
		t.equal("error", c["error"], errorCode)
	}
	if st := t.r.st; st.realm != "" && c["realm"] != "" && c["realm"] != st.realm {
		t.Errorf("realm %q differs from the first challenge's %q", c["realm"], st.realm)
	}
	return c
}

func withQuery(u string, q url.Values) string {
	if strings.Contains(u, "?") {
		return u + "&" + q.Encode()
	}
	return u + "?" + q.Encode()
}

// jwksPlaces are where the keys may be: the server, then the realm's origin when the realm
// is external.
func jwksPlaces(server, realm string) []string {
	out := []string{server}
	if u, err := url.Parse(realm); err == nil && u.Scheme+"://"+u.Host != server {
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

func audienceHas(aud any, service string) bool {
	switch a := aud.(type) {
	case string:
		return a == service
	case []any:
		for _, s := range a {
			if s == service {
				return true
			}
		}
	}
	return false
}

func grantsBuild(access any) bool {
	for _, e := range asList(access) {
		if at(e, "type") != "build" {
			continue
		}
		for _, a := range asList(at(e, "actions")) {
			if a == "build" {
				return true
			}
		}
	}
	return false
}

func decodeJWT(tok string) (header, claims map[string]any, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("%d dot-separated parts, want 3", len(parts))
	}
	dec := func(s string) (map[string]any, error) {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var m map[string]any
		return m, d.Decode(&m)
	}
	if header, err = dec(parts[0]); err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	if claims, err = dec(parts[1]); err != nil {
		return nil, nil, fmt.Errorf("claims: %w", err)
	}
	return header, claims, nil
}

func encodeSegment(t *T, v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// reclaim is tok with one claim changed and the original signature kept.
func reclaim(t *T, tok, claim string, value any) string {
	_, claims, err := decodeJWT(tok)
	if err != nil {
		t.Skipf("the realm's token is not a JWT (%v), so it cannot be altered", err)
	}
	claims[claim] = value
	parts := strings.Split(tok, ".")
	return parts[0] + "." + encodeSegment(t, claims) + "." + parts[2]
}

// algNone is tok's claims under {"alg": "none"} and no signature.
func algNone(t *T, tok string) string {
	header, claims, err := decodeJWT(tok)
	if err != nil {
		t.Skipf("the realm's token is not a JWT (%v)", err)
	}
	header["alg"] = "none"
	return encodeSegment(t, header) + "." + encodeSegment(t, claims) + "."
}

// hs256 is tok's claims signed with HMAC under a key anyone could guess.
func hs256(t *T, tok string) string {
	header, claims, err := decodeJWT(tok)
	if err != nil {
		t.Skipf("the realm's token is not a JWT (%v)", err)
	}
	header["alg"] = "HS256"
	signing := encodeSegment(t, header) + "." + encodeSegment(t, claims)
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// flipLast changes an API token's last character, keeping it well-formed.
func flipLast(s string) string {
	if s == "" {
		return "x"
	}
	last := byte('a')
	if s[len(s)-1] == 'a' {
		last = 'b'
	}
	return s[:len(s)-1] + string(last)
}

// flipTail changes base64url characters so the signature still decodes but is wrong.
func flipTail(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}
