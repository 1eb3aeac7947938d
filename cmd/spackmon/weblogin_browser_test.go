package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/spackmon/spackmon/pkg/browsertest"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/proctest"
)

// cookiesOf is the browser's cookies for url, with their attributes.
func cookiesOf(url string) chromedp.Action[[]*network.Cookie] {
	return func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		r, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		return r.Cookies, err
	}
}

func sessionCookieIn(b *browsertest.Browser, url string) *network.Cookie {
	for _, c := range browsertest.Get(b, "cookies", cookiesOf(url)) {
		if c.Name == "spackmon_session" {
			return c
		}
	}
	return nil
}

// loginWithGitHubToRotate logs in through the fake GitHub from /token, checks the session
// cookie, rotates the API token and returns the new one.
func loginWithGitHubToRotate(t *testing.T, b *browsertest.Browser, base, login string) string {
	t.Helper()
	b.Run("open /token, land on the login page", chromedp.Navigate(base+"/token"), chromedp.WaitVisible(chromedp.CSS("#login-github")))
	b.Run("log in with GitHub", chromedp.Click(chromedp.CSS("#login-github")), chromedp.WaitVisible(chromedp.CSS("#user-name")))
	if loc := browsertest.Get(b, "location", chromedp.Location()); loc != base+"/token" {
		t.Errorf("after the GitHub login the browser is at %s, want /token", loc)
	}
	if name := b.Text("#user-name"); name != login {
		t.Errorf("token page names %q, want %q", name, login)
	}
	if cmds := b.Text("#commands"); !strings.Contains(cmds, "export SPACKMON_USER="+login) || !strings.Contains(cmds, "spack install --monitor --monitor-host "+base+" zlib") {
		t.Errorf("commands to paste:\n%s", cmds)
	}
	c := sessionCookieIn(b, base)
	if c == nil || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Secure || c.Session || c.Expires <= 0 {
		t.Fatalf("session cookie in the browser: %+v; want HttpOnly, SameSite=Lax, not Secure on http, with an expiry", c)
	}
	if js := browsertest.Eval[string](b, `document.cookie`); strings.Contains(js, "spackmon_session") {
		t.Errorf("scripts see the session cookie: %q", js)
	}
	b.Run("create a new token", chromedp.Click(chromedp.CSS("#rotate")), chromedp.WaitVisible(chromedp.CSS("#new-token")))
	tok := strings.TrimSpace(b.Text("#new-token"))
	if panel := b.Text("#new-token-panel"); !strings.Contains(panel, "shown this once") || !strings.Contains(panel, "stopped working") {
		t.Errorf("new token panel: %q", panel)
	}
	if cmds := b.Text("#commands"); !strings.Contains(cmds, "export SPACKMON_TOKEN="+tok) {
		t.Errorf("commands after the rotation:\n%s", cmds)
	}
	return tok
}

// replayAs replays a captured Spack session with the credentials, as Spack would send them.
func replayAs(t *testing.T, srv *testServer, user, apiToken, capture string) {
	t.Helper()
	saved := [2]string{srv.user, srv.apiToken}
	srv.user, srv.apiToken = user, apiToken
	defer func() { srv.user, srv.apiToken = saved[0], saved[1] }()
	r := newReplay(t, srv)
	for i, ex := range loadCapture(t, capture) {
		r.send(i, ex)
	}
}

func logOutInBrowser(t *testing.T, b *browsertest.Browser, base string) {
	t.Helper()
	b.Run("log out", chromedp.Navigate(base+"/token"), chromedp.WaitVisible(chromedp.CSS("#logout")),
		chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if c := sessionCookieIn(b, base); c != nil {
		t.Errorf("after logout the browser keeps %+v", c)
	}
	b.Run("/token after logout", chromedp.Navigate(base+"/token"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
}

// In a real browser against serve on SQLite: log in with GitHub, read and rotate the token,
// send a Spack session with the new one and find it on the dashboard, have another site's
// form POST refused, log out, refuse an open redirect, log in with OpenID Connect, see the
// linked identity and delete the account; then the private-reads redirect.
func TestWebLoginInBrowser(t *testing.T) {
	b := browsertest.New(t)
	idp := newFakeProvider(t)
	srv := startServe(t, backends[0].database(t), idp.withLogin)
	base := srv.URL

	idp.logInAs(fakeAccount{ID: 4242, Login: "octo", Email: "octo@example.org", EmailVerified: true})
	tok := loginWithGitHubToRotate(t, b, base, "octo")
	replayAs(t, srv, "octo", tok, "v0.17.2-install-failure.jsonl")
	b.Run("my builds", chromedp.Navigate(base+"/profile"), chromedp.WaitVisible(chromedp.CSS("#my-builds")),
		chromedp.Click(chromedp.CSS("#my-builds")), chromedp.WaitVisible(chromedp.CSS("table.builds")))
	owners := browsertest.Eval[[]string](b, `[...document.querySelectorAll("table.builds tbody tr[data-build] td:nth-child(7)")].map(e => e.textContent.trim())`)
	if len(owners) == 0 || strings.Join(owners, "") != strings.Repeat("octo", len(owners)) {
		t.Errorf("owners of the builds on /?owner=octo: %q", owners)
	}

	// Another site's page posts a logout form: refused, and the session lives on.
	idp.attackerPage = `<!doctype html><form id="f" method="post" action="` + base + `/logout"></form>` +
		`<script>document.getElementById("f").submit()</script>`
	b.Run("another site posts /logout", chromedp.Navigate(idp.srv.URL+"/attack"), chromedp.WaitVisible(chromedp.CSS(".error-page")))
	if msg := b.Text(".error-page"); !strings.Contains(msg, "403") || !strings.Contains(msg, "another site") {
		t.Errorf("cross-site logout answered %q", msg)
	}
	b.Run("still logged in", chromedp.Navigate(base+"/token"), chromedp.WaitVisible(chromedp.CSS("#user-name")))
	logOutInBrowser(t, b, base)

	// The form with next naming another host lands on this site's front page.
	b.Run("log in by form with next=//evil.example", chromedp.Navigate(base+"/login?next=//evil.example/x"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), srv.user), chromedp.SendKeys(chromedp.CSS("#token"), srv.apiToken),
		chromedp.Submit(chromedp.CSS("#login-form")), chromedp.WaitVisible(chromedp.CSS("table.builds")))
	if loc := browsertest.Get(b, "location", chromedp.Location()); loc != base+"/" {
		t.Errorf("after a login with next=//evil.example the browser is at %s", loc)
	}
	logOutInBrowser(t, b, base)

	// OpenID Connect with an address the provider has not verified: a user of its own.
	// Its address is a payload: the provider's word is shown, never run.
	const payload = `"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>@example.org`
	idp.logInAs(fakeAccount{ID: 9, Login: "dana", Email: payload})
	b.Run("log in with OIDC", chromedp.Navigate(base+"/profile"), chromedp.WaitVisible(chromedp.CSS("#login-oidc")),
		chromedp.Click(chromedp.CSS("#login-oidc")), chromedp.WaitVisible(chromedp.CSS("#delete-form")))
	if h := b.Text("main h1"); h != "dana" {
		t.Errorf("profile of %q, want dana (an unverified address links nothing)", h)
	}
	if ids := b.Text("table.identities"); !strings.Contains(ids, idp.issuer()) || !strings.Contains(ids, "not verified") || !strings.Contains(ids, payload) {
		t.Errorf("identities: %q", ids)
	}
	if ran := browsertest.Eval[bool](b, `window.__xss !== undefined || document.querySelector("main img, main script") !== null`); ran {
		t.Error("the e-mail payload became markup on the profile page")
	}
	logOutInBrowser(t, b, base)

	// octo deletes the account: the builds stay, shown under the tombstone name, and the
	// name octo owns nothing any more.
	idp.logInAs(fakeAccount{ID: 4242, Login: "octo", Email: "octo@example.org", EmailVerified: true})
	b.Run("log in as octo again", chromedp.Navigate(base+"/profile"), chromedp.WaitVisible(chromedp.CSS("#login-github")),
		chromedp.Click(chromedp.CSS("#login-github")), chromedp.WaitVisible(chromedp.CSS("#delete-form")))
	b.Run("delete with a wrong name", chromedp.SendKeys(chromedp.CSS("#confirm"), "dana"), chromedp.Click(chromedp.CSS("#delete")),
		chromedp.WaitVisible(chromedp.CSS("#profile-message")))
	b.Run("delete the account", chromedp.SendKeys(chromedp.CSS("#confirm"), "octo"), chromedp.Click(chromedp.CSS("#delete")),
		chromedp.WaitVisible(chromedp.CSS("#deleted")))
	tomb := b.Text("#tombstone")
	if !strings.HasPrefix(tomb, "deleted-user-") || !strings.Contains(b.Text("#deleted"), "build") {
		t.Errorf("deleted page: %q", b.Text("#deleted"))
	}
	if c := sessionCookieIn(b, base); c != nil {
		t.Errorf("after deleting the account the browser keeps %+v", c)
	}
	if a := srv.do(t, "GET", "/auth/token/", nil, basic("octo", tok)); a.Status != 401 {
		t.Errorf("realm for the deleted user: %d", a.Status)
	}
	b.Run("the tombstone's builds", chromedp.Click(chromedp.CSS("#tombstone")), chromedp.WaitVisible(chromedp.CSS("table.builds tbody tr[data-build]")))
	owners = browsertest.Eval[[]string](b, `[...document.querySelectorAll("table.builds tbody tr[data-build] td:nth-child(7)")].map(e => e.textContent.trim())`)
	if len(owners) == 0 || strings.Join(owners, "") != strings.Repeat(tomb, len(owners)) {
		t.Errorf("owners of the builds on /?owner=%s: %q", tomb, owners)
	}
	b.Run("octo owns nothing now", chromedp.Navigate(base+"/?owner=octo"), chromedp.WaitVisible(chromedp.CSS("table.builds")))
	if n := browsertest.Eval[int](b, `document.querySelectorAll("table.builds tbody tr[data-build]").length`); n != 0 {
		t.Errorf("%d builds still shown as octo's", n)
	}

	// Private reads: a page sends the visitor through the login and back.
	private := startServe(t, backends[0].database(t), func(c *serveConfig) { idp.withLogin(c); c.PrivateReads = true })
	idp.logInAs(fakeAccount{ID: 4242, Login: "octo", Email: "octo@example.org", EmailVerified: true})
	b.Run("private dashboard", chromedp.Navigate(private.URL+"/?status=FAILED"), chromedp.WaitVisible(chromedp.CSS("#login-github")))
	if loc := browsertest.Get(b, "location", chromedp.Location()); loc != private.URL+"/login?next=%2F%3Fstatus%3DFAILED" {
		t.Errorf("private reads sent the browser to %s", loc)
	}
	b.Run("log in and come back", chromedp.Click(chromedp.CSS("#login-github")), chromedp.WaitVisible(chromedp.CSS("table.builds")))
	if loc := browsertest.Get(b, "location", chromedp.Location()); loc != private.URL+"/?status=FAILED" {
		t.Errorf("after logging in the browser is at %s", loc)
	}
}

// The same login in a browser against the separate roles of the real binary on PostgreSQL:
// GitHub login, rotation, a Spack session with the new token, logout.
func TestWebLoginInBrowserSeparateRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	b := browsertest.New(t)
	idp := newFakeProvider(t)
	bin := proctest.Build(t)
	db := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	d := proctest.StartRoles(t, bin, append(os.Environ(), "SPACKMON_DATABASE_URL="+db, "SPACKMON_LOG_LEVEL=error",
		"SPACKMON_GITHUB_CLIENT_ID="+idp.clientID, "SPACKMON_GITHUB_CLIENT_SECRET="+idp.clientSecret,
		"SPACKMON_GITHUB_URL="+idp.srv.URL, "SPACKMON_GITHUB_API_URL="+idp.srv.URL+"/api"))
	srv := &testServer{URL: d.URL, prefix: "/ms1", client: &http.Client{Timeout: time.Minute}, realm: d.URL + "/auth/token/"}
	idp.logInAs(fakeAccount{ID: 7, Login: "pg-octo", Email: "pg@example.org", EmailVerified: true})
	tok := loginWithGitHubToRotate(t, b, d.URL, "pg-octo")
	replayAs(t, srv, "pg-octo", tok, "v0.17.2-install.jsonl")
	b.Run("builds of pg-octo", chromedp.Navigate(d.URL+"/?owner=pg-octo"), chromedp.WaitVisible(chromedp.CSS("table.builds tbody tr[data-build]")))
	logOutInBrowser(t, b, d.URL)
}
