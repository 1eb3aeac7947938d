package suite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// state is what earlier checks leave for later ones: tokens, the ids of what was stored.
type state struct {
	realm, service string
	token, token2  string
	kid            string
	// tokenAnswer is the realm's answer that granted token.
	tokenAnswer map[string]any

	// The main spec (root depends on dep) and the build of it most checks work on.
	root, dep node
	specOK    bool
	buildID   int64
	hostname  string
	// otherBuildID is the main spec's build in another environment, depBuildID the
	// dependency's build: updates of the main build must leave them alone.
	otherBuildID, depBuildID int64
	env                      map[string]string // the main build's environment variables
	// finalStatus and outputs are what the read-back expects.
	finalStatus string
	outputs     map[string]string
	analyzed    bool

	api    bool // the server offers /api/v1
	specID int64
}

// spackChallenge is Spack's own parsing of Www-Authenticate, A-z range (and its bug)
// included: a server must be readable by exactly this.
var spackChallenge = regexp.MustCompile(`([a-zA-z]+)="(.+?)"`)

func parseChallenge(h string) map[string]string {
	out := map[string]string{}
	for _, m := range spackChallenge.FindAllStringSubmatch(h, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func (r *runner) route(p string) string { return r.cfg.Prefix + p }

// post sends body as JSON labelled the way Spack labels it; body may be raw bytes.
func (t *T) post(path string, body any, auth http.Header) *Response {
	return t.postTyped(path, body, "application/x-www-form-urlencoded", auth)
}

func (t *T) postTyped(path string, body any, contentType string, auth http.Header) *Response {
	data, ok := body.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	}
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for k, v := range auth {
		h[k] = v
	}
	return t.Do(request{method: http.MethodPost, path: path, body: data, header: h})
}

// write posts to a /ms1 route as the first user.
func (t *T) write(route string, body any) *Response {
	return t.post(t.r.route(route), body, bearerHeader(t.login()))
}

func (t *T) get(path string, h http.Header) *Response {
	return t.Do(request{method: http.MethodGet, path: path, header: h})
}

// login returns the first user's bearer token, doing Spack's dance the first time.
func (t *T) login() string {
	st := t.r.st
	if st.token == "" {
		st.token = t.dance(t.r.cfg.User, t.r.cfg.Token)
	}
	return st.token
}

// dance is what Spack does on a 401: read the challenge, ask the realm with Basic
// credentials and the Service header, keep the token.
func (t *T) dance(user, apiToken string) string {
	st := t.r.st
	if st.realm == "" {
		a := t.post(t.r.route("/specs/new/"), map[string]any{}, nil)
		if a.Status != http.StatusUnauthorized {
			t.Fatalf("a write without a token answered %s, want 401 with a challenge", a)
		}
		ch := parseChallenge(a.Header.Get("Www-Authenticate"))
		if ch["realm"] == "" {
			t.Fatalf("no realm in the challenge %q", a.Header.Get("Www-Authenticate"))
		}
		st.realm, st.service = ch["realm"], ch["service"]
	}
	h := basicHeader(user, apiToken)
	if st.service != "" {
		h.Set("Service", st.service)
	}
	a := t.realmGet(st.realm, h)
	if a.Status != http.StatusOK {
		t.Fatalf("the realm refused %s's credentials: %s", user, a)
	}
	m := t.object(a)
	tok, _ := m["token"].(string)
	if tok == "" {
		t.Fatalf("the realm answered without a token: %s", a)
	}
	t.r.addSecret(tok)
	return tok
}

// realmGet asks the realm, waiting out a 429: a realm may slow down an address after
// failed attempts (the suite makes some on purpose), and a client is expected to wait
// rather than to count that as a refusal of its credentials.
func (t *T) realmGet(u string, h http.Header) *Response {
	wait, waited := time.Second, time.Duration(0)
	for {
		a := t.get(u, h)
		if a.Status != http.StatusTooManyRequests || waited >= realmPatience {
			return a
		}
		if s, err := strconv.Atoi(a.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		wait = min(wait, realmPatience-waited)
		select {
		case <-t.r.ctx.Done():
			return a
		case <-time.After(wait):
		}
		waited += wait
		wait = min(2*wait, 8*time.Second)
	}
}

// realmPatience is how long realmGet waits out a rate limit in all.
const realmPatience = 45 * time.Second

// absoluteURL reports whether s is an absolute http(s) URL, as Spack needs the realm to be.
func absoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// toggleSlash is u with its path's trailing slash removed, or added when it had none.
func toggleSlash(u string) string {
	base, query, _ := strings.Cut(u, "?")
	if strings.HasSuffix(base, "/") {
		base = strings.TrimSuffix(base, "/")
	} else {
		base += "/"
	}
	if query != "" {
		return base + "?" + query
	}
	return base
}
