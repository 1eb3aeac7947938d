package ui

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
)

// LoginOptions configure the web login.
type LoginOptions struct {
	config.WebLogin
	// PublicURL is where browsers reach the gateway: the providers' callbacks are under it,
	// and the cookies are Secure when it is https.
	PublicURL string
	// PrivateReads sends every page but the login's to /login when nobody is logged in.
	PrivateReads bool
	// GatewaySecret is shown to the auth service when the gateway logs someone in.
	GatewaySecret string
	// HTTPClient talks to the identity providers; nil for one with a timeout.
	HTTPClient *http.Client
}

// Cookies of the web login.
const (
	// sessionCookie holds the web session token the auth service issued.
	sessionCookie = "spackmon_session"
	// maxCookieBytes bounds a cookie value the pages read: a token is far shorter.
	maxCookieBytes = 4096
)

// viewer is the person logged in, as the session cookie names them.
type viewer struct {
	Name  string
	Token string
}

type viewerKey struct{}

func viewerOf(r *http.Request) *viewer {
	v, _ := r.Context().Value(viewerKey{}).(*viewer)
	return v
}

// admit establishes who is logged in from the session cookie, and, with private reads,
// sends a visitor who is not to the login page. It returns the request to serve, or false
// when it answered already.
func (u *UI) admit(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if strings.HasPrefix(r.URL.Path, "/static/") {
		return r, true
	}
	if v, ended := u.session(r); v != nil {
		r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, v))
	} else if ended {
		u.clearSessionCookie(w)
	}
	if u.opts.Login.PrivateReads && viewerOf(r) == nil && !openWithoutLogin(r.URL.Path) {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return r, false
	}
	return r, true
}

// session checks the request's session cookie with the auth service: the person it names,
// or nil and whether the realm ended it (logged out, expired, or the user is gone).
func (u *UI) session(r *http.Request) (v *viewer, ended bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > maxCookieBytes {
		return nil, false
	}
	ctx := metadata.AppendToOutgoingContext(r.Context(), "authorization", "Bearer "+c.Value)
	s, err := u.clients.Auth.GetSession(ctx, &authv1.GetSessionRequest{})
	switch status.Code(err) {
	case codes.OK:
		return &viewer{Name: s.GetUser().GetName(), Token: c.Value}, false
	case codes.Unauthenticated, codes.PermissionDenied:
		return nil, true
	}
	u.log.WarnContext(r.Context(), "checking a web session failed", "error", err)
	return nil, false
}

// SessionReads gives a read of the JSON API that has no Authorization of its own the token
// of r's live web session: the pages link to JSON and their scripts read it (a browser's
// EventSource cannot set a header), and with private reads those would be refused. The
// session grants no scope, so it only ever reads; a stale cookie is left out, so that it
// does not spoil a read that needs no login.
// An answer read with a session is that person's: no cache keeps it for another.
func (u *UI) SessionReads(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return
	}
	if v, _ := u.session(r); v != nil {
		r.Header.Set("Authorization", "Bearer "+v.Token)
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Add("Vary", "Cookie")
	}
}

// openWithoutLogin are the paths a visitor reaches with private reads: the login page, its
// form and callbacks, and logging out.
func openWithoutLogin(path string) bool {
	return path == "/login" || strings.HasPrefix(path, "/login/") || path == "/logout"
}

// viewerName is the name the layout shows for the person logged in.
func viewerName(r *http.Request) string {
	if v := viewerOf(r); v != nil {
		return v.Name
	}
	return ""
}

// withSession is ctx carrying the viewer's token to the services, unless the request
// carries its own credentials.
func withSession(ctx context.Context, r *http.Request) context.Context {
	if r.Header.Get("Authorization") != "" {
		return ctx
	}
	if v := viewerOf(r); v != nil {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+v.Token)
	}
	return ctx
}

func (u *UI) secureCookies() bool { return strings.HasPrefix(u.opts.Login.PublicURL, "https://") }

func (u *UI) setSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		MaxAge: max(1, int(time.Until(expires).Seconds())), HttpOnly: true, Secure: u.secureCookies(), SameSite: http.SameSiteLaxMode})
}

func (u *UI) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: u.secureCookies(), SameSite: http.SameSiteLaxMode})
}

// localPath is where to go after logging in: next when it is a path on this site, else /.
// A path starting with // or /\ would be another host to a browser, so is refused, as is
// anything with a scheme, a host or control characters.
func localPath(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsRune(next, '\\') || strings.ContainsFunc(next, unicode.IsControl) {
		return "/"
	}
	p, err := url.Parse(next)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil || !strings.HasPrefix(p.Path, "/") || strings.HasPrefix(p.Path, "//") {
		return "/"
	}
	return next
}

// asGateway is ctx showing the gateway's secret and the client's address to the auth
// service, as the JSON routes do.
func (u *UI) asGateway(ctx context.Context, r *http.Request) context.Context {
	pairs := []string{}
	if u.opts.Login.GatewaySecret != "" {
		pairs = append(pairs, authn.GatewaySecretHeader, u.opts.Login.GatewaySecret)
	}
	if host := clientHost(r.RemoteAddr); host != "" {
		pairs = append(pairs, "x-forwarded-for", host)
	}
	return metadata.AppendToOutgoingContext(ctx, pairs...)
}

func clientHost(remote string) string {
	if i := strings.LastIndexByte(remote, ':'); i > 0 {
		return strings.Trim(remote[:i], "[]")
	}
	return remote
}

// withoutViewer is the request's context with nobody logged in: for the page that follows
// the account's deletion.
func withoutViewer(r *http.Request) context.Context {
	return context.WithValue(r.Context(), viewerKey{}, (*viewer)(nil))
}

func basicAuth(name, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(name+":"+token))
}
