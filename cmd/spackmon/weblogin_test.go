package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// visitor is a browser without JavaScript: it keeps cookies and follows redirects by hand,
// so that a test sees every answer on the way, Set-Cookie headers included.
type visitor struct {
	t      *testing.T
	client *http.Client
	// trail holds the answers of the last visit, first to last.
	trail []*http.Response
}

func newVisitor(t *testing.T) *visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, client: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// visit sends the request and follows redirects, returning the last answer and its body.
func (v *visitor) visit(method, target string, form url.Values, header http.Header) (*http.Response, string) {
	v.t.Helper()
	v.trail = nil
	for range 10 {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, target, body)
		if err != nil {
			v.t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		resp, err := v.client.Do(req)
		if err != nil {
			v.t.Fatalf("%s %s: %v", method, target, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		v.trail = append(v.trail, resp)
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || loc == "" {
			return resp, string(b)
		}
		next, err := resp.Request.URL.Parse(loc)
		if err != nil {
			v.t.Fatal(err)
		}
		target, method, form, header = next.String(), http.MethodGet, nil, nil
	}
	v.t.Fatalf("too many redirects from %s", target)
	return nil, ""
}

// setCookie is the Set-Cookie of the named cookie on the last visit's way.
func (v *visitor) setCookie(name string) *http.Cookie {
	for _, r := range v.trail {
		for _, c := range r.Cookies() {
			if c.Name == name {
				return c
			}
		}
	}
	return nil
}

// The web login over plain HTTP against serve on SQLite: GitHub and OpenID Connect logins
// through fake providers, the session cookie's attributes, the login form, the open
// redirect refusals, a cross-site POST refused, and logout ending the session server-side.
func TestWebLoginOverHTTP(t *testing.T) {
	idp := newFakeProvider(t)
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) {
		idp.withLogin(c)
		c.RevocationRefresh = 20 * time.Millisecond
	})

	// GitHub: /token needs a login, which comes back to /token.
	idp.logInAs(fakeAccount{ID: 501, Login: "octo", Email: "octo@example.org", EmailVerified: true})
	v := newVisitor(t)
	resp, body := v.visit(http.MethodGet, srv.URL+"/token", nil, nil)
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("next") != "/token" || !strings.Contains(body, `id="login-github"`) {
		t.Fatalf("/token without a login ended at %s: %d", resp.Request.URL, resp.StatusCode)
	}
	resp, body = v.visit(http.MethodGet, srv.URL+"/login/github?next=%2Ftoken", nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/token" {
		t.Fatalf("GitHub login ended at %s: %d\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	for _, want := range []string{"export SPACKMON_USER=octo", "spack install --monitor --monitor-host " + srv.URL + " zlib", "Create a new token"} {
		if !strings.Contains(body, want) {
			t.Errorf("token page lacks %q:\n%s", want, body)
		}
	}
	c := v.setCookie("spackmon_session")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.MaxAge <= 0 || c.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure on http, with a lifetime", c)
	}
	session := c.Value

	// A cross-site POST is refused and changes nothing; the same POST from the site works.
	resp, body = v.visit(http.MethodPost, srv.URL+"/logout", url.Values{}, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "another site") {
		t.Errorf("cross-site logout: %d\n%s", resp.StatusCode, body)
	}
	resp, body = v.visit(http.MethodPost, srv.URL+"/token", url.Values{}, http.Header{"Origin": {"http://evil.example"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin rotate: %d\n%s", resp.StatusCode, body)
	}
	if _, body = v.visit(http.MethodGet, srv.URL+"/profile", nil, nil); !strings.Contains(body, "octo@example.org (verified)") || !strings.Contains(body, `href="/?owner=octo"`) {
		t.Errorf("profile after refused POSTs:\n%s", body)
	}

	// Logout ends the session: the copied token is refused by the services.
	resp, _ = v.visit(http.MethodPost, srv.URL+"/logout", url.Values{}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if resp.Request.URL.Path != "/login" {
		t.Errorf("logout ended at %s", resp.Request.URL)
	}
	if c := v.setCookie("spackmon_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout's cookie %+v: want it removed", c)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		stale := newVisitor(t)
		u, _ := url.Parse(srv.URL)
		stale.client.Jar.SetCookies(u, []*http.Cookie{{Name: "spackmon_session", Value: session}})
		if resp, _ := stale.visit(http.MethodGet, srv.URL+"/token", nil, nil); resp.Request.URL.Path == "/login" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session's token still works after logout")
		}
	}

	// OpenID Connect, with the same verified address: the same user, a second identity.
	idp.logInAs(fakeAccount{ID: 77, Login: "someone-else", Email: "octo@example.org", EmailVerified: true})
	resp, body = v.visit(http.MethodGet, srv.URL+"/login/oidc?next=%2Fprofile", nil, nil)
	if resp.Request.URL.Path != "/profile" || !strings.Contains(body, "<h1>octo</h1>") || !strings.Contains(body, idp.issuer()) || !strings.Contains(body, "oidc-77") {
		t.Fatalf("OIDC login ended at %s: %d\n%s", resp.Request.URL, resp.StatusCode, body)
	}

	// A callback that does not match the attempt is refused.
	if resp, _ := v.visit(http.MethodGet, srv.URL+"/login/github/callback?code=x&state=forged", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged callback: %d", resp.StatusCode)
	}

	// The form: wrong credentials are refused on the page; right ones log in, and next
	// never leaves the site.
	form := newVisitor(t)
	resp, body = form.visit(http.MethodPost, srv.URL+"/login", url.Values{"name": {srv.user}, "token": {"smt_wrong"}, "next": {"/profile"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or API token.") {
		t.Errorf("wrong token: %d\n%s", resp.StatusCode, body)
	}
	for _, next := range []string{"//evil.example/x", "/\\evil.example", "https://evil.example/", "http:/evil.example", "/\t/evil.example", "javascript:alert(1)", "evil.example"} {
		form := newVisitor(t)
		form.visit(http.MethodPost, srv.URL+"/login", url.Values{"name": {srv.user}, "token": {srv.apiToken}, "next": {next}}, nil)
		if loc := form.trail[0].Header.Get("Location"); loc != "/" {
			t.Errorf("login with next=%q redirects to %q, want /", next, loc)
		}
		if _, body := form.visit(http.MethodGet, srv.URL+"/login?next="+url.QueryEscape(next), nil, nil); strings.Contains(body, "evil.example") {
			t.Errorf("the login page keeps next=%q", next)
		}
	}
	resp, _ = form.visit(http.MethodPost, srv.URL+"/login", url.Values{"name": {srv.user}, "token": {srv.apiToken}, "next": {"/profile?x=1"}}, nil)
	if resp.Request.URL.RequestURI() != "/profile?x=1" || form.trail[0].Header.Get("Location") != "/profile?x=1" {
		t.Errorf("a local next: ended at %s", resp.Request.URL)
	}
}

// With SPACKMON_PRIVATE_READS, every page but the login's sends a visitor to /login and back
// after; the JSON read routes keep their rule (a token).
func TestPrivateReadsPages(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.PrivateReads = true })
	v := newVisitor(t)
	for _, p := range []string{"/", "/?status=FAILED&tag=x", "/builds/1", "/token", "/profile", "/no/such/page"} {
		v.visit(http.MethodGet, srv.URL+p, nil, nil)
		first := v.trail[0]
		if first.StatusCode != http.StatusSeeOther || first.Header.Get("Location") != "/login?next="+url.QueryEscape(p) {
			t.Errorf("GET %s: %d to %q", p, first.StatusCode, first.Header.Get("Location"))
		}
	}
	if resp, _ := v.visit(http.MethodGet, srv.URL+"/login", nil, nil); resp.StatusCode != http.StatusOK || len(v.trail) != 1 {
		t.Errorf("GET /login: %d after %d answers", resp.StatusCode, len(v.trail))
	}
	if resp, _ := v.visit(http.MethodGet, srv.URL+"/api/v1/builds", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/builds without a token: %d", resp.StatusCode)
	}
	resp, body := v.visit(http.MethodPost, srv.URL+"/login", url.Values{"name": {srv.user}, "token": {srv.apiToken}, "next": {"/?status=FAILED"}}, nil)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.RequestURI() != "/?status=FAILED" || !strings.Contains(body, "<h1>Builds</h1>") {
		t.Errorf("after logging in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	// The log page loads more lines from the log's route with the login, as the event
	// stream follows a build with it.
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
		"build_id": id, "phase_name": "build", "status": "SUCCESS", "output": "one\ntwo\n"}), http.StatusOK, "")
	output := fmt.Sprintf("%s/api/v1/builds/%d/phases/build/output?unit=lines&offset=1&limit=1", srv.URL, id)
	if resp, body := v.visit(http.MethodGet, output, nil, nil); resp.StatusCode != http.StatusOK || body != "two\n" {
		t.Errorf("the log's lines with the login: %d %q", resp.StatusCode, body)
	}
}
