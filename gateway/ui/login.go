package ui

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// Longest user name and API token the login form takes, in bytes.
const (
	maxFormName  = 150
	maxFormToken = 256
)

type loginPage struct {
	Next     string
	GitHub   bool
	OIDC     bool
	OIDCName string
	Name     string
	Message  string
}

type tokenPage struct {
	Name      string
	PublicURL string
	// NewToken is the API token just made, shown this once.
	NewToken string
}

type profilePage struct {
	Name       string
	OwnerLink  string
	Identities []*authv1.Identity
	Message    string
}

type deletedPage struct {
	Name string
	// Owner is the tombstone name the account's builds are now shown under.
	Owner  string
	Builds int64
}

// registerLogin maps the login's pages. Every POST is refused when it comes from another
// site (http.CrossOriginProtection): a page elsewhere cannot log someone out, rotate their
// token or delete their account.
func (u *UI) registerLogin() error {
	u.login = newProviders(u.opts.Login)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, &Error{Status: http.StatusForbidden, Message: "This form was sent from another site; it is refused."})
	}))
	post := func(pattern string, h http.HandlerFunc) { u.mux.Handle(pattern, cop.Handler(h)) }
	u.mux.HandleFunc("GET /login", u.showLogin)
	post("POST /login", u.loginWithToken)
	u.mux.HandleFunc("GET /login/{provider}", u.startProviderLogin)
	u.mux.HandleFunc("GET /login/{provider}/callback", u.finishProviderLogin)
	post("POST /logout", u.logout)
	u.mux.HandleFunc("GET /token", u.needLogin(u.showToken))
	post("POST /token", u.needLogin(u.rotateToken))
	u.mux.HandleFunc("GET /profile", u.needLogin(u.showProfile))
	post("POST /profile/delete", u.needLogin(u.deleteAccount))
	return nil
}

// needLogin sends a visitor who is not logged in to the login page, back here after.
func (u *UI) needLogin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if viewerOf(r) == nil {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = r.URL.Path
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

func (u *UI) loginPageFor(r *http.Request, next string) loginPage {
	o := u.opts.Login
	return loginPage{Next: localPath(next), GitHub: o.GitHub(), OIDC: o.OIDC(), OIDCName: o.OIDCName}
}

func (u *UI) showLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if viewerOf(r) != nil {
		http.Redirect(w, r, localPath(next), http.StatusSeeOther)
		return
	}
	u.render(w, r, &Page{Template: "login", Title: "Log in", Data: u.loginPageFor(r, next)})
}

// loginWithToken logs in with the form's user name and API token.
func (u *UI) loginWithToken(w http.ResponseWriter, r *http.Request) {
	name, token, next := r.PostFormValue("name"), r.PostFormValue("token"), r.PostFormValue("next")
	page := u.loginPageFor(r, next)
	page.Name = name
	if name == "" || token == "" || len(name) > maxFormName || len(token) > maxFormToken {
		page.Message = "Give your user name and API token."
		u.render(w, r, &Page{Template: "login", Title: "Log in", Status: http.StatusBadRequest, Data: page})
		return
	}
	ctx := metadata.AppendToOutgoingContext(u.asGateway(r.Context(), r), "authorization", basicAuth(name, token))
	ws, err := u.clients.Auth.LoginWithAPIToken(ctx, &authv1.LoginWithAPITokenRequest{})
	switch status.Code(err) {
	case codes.OK:
	case codes.Unauthenticated:
		page.Message = "Wrong user name or API token."
		u.render(w, r, &Page{Template: "login", Title: "Log in", Status: http.StatusUnauthorized, Data: page})
		return
	case codes.ResourceExhausted:
		page.Message = status.Convert(err).Message()
		u.render(w, r, &Page{Template: "login", Title: "Log in", Status: http.StatusTooManyRequests, Data: page})
		return
	default:
		u.renderError(w, r, err)
		return
	}
	u.setSessionCookie(w, ws.GetToken(), ws.GetExpiresAt().AsTime())
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
}

func (u *UI) knownProvider(name string) bool {
	return (name == providerGitHub && u.opts.Login.GitHub()) || (name == providerOIDC && u.opts.Login.OIDC())
}

// startProviderLogin sends the browser to the provider, remembering the attempt in a
// cookie that only this site's login paths see.
func (u *UI) startProviderLogin(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("provider")
	if !u.knownProvider(provider) {
		u.renderError(w, r, NotFound("There is no login with %s here.", provider))
		return
	}
	to, attempt, err := u.login.start(r.Context(), provider, localPath(r.URL.Query().Get("next")))
	if err != nil {
		u.log.WarnContext(r.Context(), "web login could not start", "provider", provider, "error", err)
		u.renderError(w, r, &Error{Status: http.StatusServiceUnavailable, Message: "The identity provider cannot be reached right now; try again in a moment."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: encodeAttempt(attempt), Path: "/login/",
		MaxAge: int(loginAttemptTTL.Seconds()), HttpOnly: true, Secure: u.secureCookies(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// finishProviderLogin checks the provider's answer against the attempt, has the auth
// service find or create the identity's user, and sets the session cookie.
func (u *UI) finishProviderLogin(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("provider")
	if !u.knownProvider(provider) {
		u.renderError(w, r, NotFound("There is no login with %s here.", provider))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login/", MaxAge: -1, HttpOnly: true, Secure: u.secureCookies(), SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	c, err := r.Cookie(loginCookie)
	attempt, ok := loginAttempt{}, false
	if err == nil {
		attempt, ok = decodeAttempt(c.Value)
	}
	state := q.Get("state")
	if !ok || attempt.Provider != provider || len(state) > 256 || subtle.ConstantTimeCompare([]byte(state), []byte(attempt.State)) != 1 {
		u.renderError(w, r, BadRequest("This login attempt is unknown or expired: start again from the login page."))
		return
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" || len(q.Get("code")) > 2048 {
		u.renderError(w, r, &Error{Status: http.StatusForbidden, Message: "The identity provider did not log you in."})
		return
	}
	id, err := u.login.finish(r.Context(), attempt, q.Get("code"))
	if err != nil {
		u.log.WarnContext(r.Context(), "web login refused", "provider", provider, "error", err)
		u.renderError(w, r, &Error{Status: http.StatusForbidden, Message: "The identity provider's answer could not be checked; the login is refused."})
		return
	}
	ws, err := u.clients.Auth.LoginWithIdentity(u.asGateway(r.Context(), r), id)
	if err != nil {
		u.renderError(w, r, err)
		return
	}
	u.setSessionCookie(w, ws.GetToken(), ws.GetExpiresAt().AsTime())
	http.Redirect(w, r, localPath(attempt.Next), http.StatusSeeOther)
}

// logout ends the session at the auth service, so that its token is refused even if the
// cookie was copied, and forgets the cookie.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if v := viewerOf(r); v != nil {
		ctx := metadata.AppendToOutgoingContext(r.Context(), "authorization", "Bearer "+v.Token)
		if _, err := u.clients.Auth.EndSession(ctx, &authv1.EndSessionRequest{}); err != nil && status.Code(err) != codes.Unauthenticated {
			u.renderError(w, r, err)
			return
		}
	}
	u.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (u *UI) showToken(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, &Page{Template: "token", Title: "Your API token", Data: tokenPage{Name: viewerOf(r).Name, PublicURL: u.opts.Login.PublicURL}})
}

// rotateToken makes a new API token and shows it this once; the old one stops working.
func (u *UI) rotateToken(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	resp, err := u.clients.Auth.RotateOwnToken(withSession(r.Context(), r), &authv1.RotateOwnTokenRequest{})
	if err != nil {
		u.renderError(w, r, err)
		return
	}
	u.render(w, r, &Page{Template: "token", Title: "Your new API token", Data: tokenPage{Name: v.Name, PublicURL: u.opts.Login.PublicURL, NewToken: resp.GetApiToken()}})
}

func (u *UI) showProfile(w http.ResponseWriter, r *http.Request) {
	u.renderProfile(w, r, http.StatusOK, "")
}

func (u *UI) renderProfile(w http.ResponseWriter, r *http.Request, code int, message string) {
	v := viewerOf(r)
	ids, err := u.clients.Auth.ListIdentities(withSession(r.Context(), r), &authv1.ListIdentitiesRequest{})
	if err != nil {
		u.renderError(w, r, err)
		return
	}
	u.render(w, r, &Page{Template: "profile", Title: v.Name, Status: code, Data: profilePage{Name: v.Name,
		OwnerLink: "/?" + url.Values{"owner": {v.Name}}.Encode(), Identities: ids.GetIdentities(), Message: message}})
}

// deleteAccount deletes the user once the form repeats the name.
func (u *UI) deleteAccount(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	confirm := r.PostFormValue("confirm")
	if confirm != v.Name {
		u.renderProfile(w, r, http.StatusBadRequest, "Type your user name exactly to delete your account.")
		return
	}
	// The builds are shown under the tombstone name first: once the user is gone, its
	// session can no longer ask.
	tomb, err := u.clients.Ingest.TombstoneOwnBuilds(withSession(r.Context(), r), &ingestv1.TombstoneOwnBuildsRequest{})
	if err != nil {
		u.renderError(w, r, err)
		return
	}
	if _, err := u.clients.Auth.DeleteOwnAccount(withSession(r.Context(), r), &authv1.DeleteOwnAccountRequest{ConfirmName: confirm}); err != nil {
		u.renderError(w, r, err)
		return
	}
	u.clearSessionCookie(w)
	r = r.WithContext(withoutViewer(r))
	u.render(w, r, &Page{Template: "deleted", Title: "Account deleted", Data: deletedPage{Name: v.Name, Owner: tomb.GetOwner(), Builds: tomb.GetBuilds()}})
}
