// Package suite checks a Spack Monitor server against PROTOCOL.md over plain HTTP. It knows
// nothing of any server's internals: everything it learns, it learns from the wire.
package suite

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Config says which server to check and as whom.
type Config struct {
	URL    string // base URL of the server, e.g. http://127.0.0.1:8080
	Prefix string // of the protocol routes, "/ms1" unless the operator moved it
	// User and Token are an account's name and API token (what Spack users export as
	// SPACKMON_USER and SPACKMON_TOKEN).
	User, Token string
	// User2 and Token2 are a second account, for the ownership checks; without them those
	// checks are skipped.
	User2, Token2 string
	// MaxBodyBytes, when set, is the server's body limit, for the 413 check.
	MaxBodyBytes int64
	// SpackVersion goes into every document this run posts.
	SpackVersion string
	// RunID makes this run's names and hashes unique, so runs against one server do not
	// find each other's specs; random when empty.
	RunID   string
	Timeout time.Duration
	// Log, when set, gets one line per finished check as the run goes.
	Log io.Writer
}

// The reasons of the checks skipped for want of configuration, which a run can be told how
// to give.
const (
	SkipNoUser2     = "no second user (set SPACKMON_USER2 and SPACKMON_TOKEN2, or --user2/--token2)"
	SkipNoBodyLimit = "the server's body limit is not known (pass --max-body-bytes)"
)

// NewRunID is a random run id.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Run checks the server and returns the result tree.
func Run(ctx context.Context, cfg Config) *Node {
	if cfg.Prefix == "" {
		cfg.Prefix = "/ms1"
	}
	cfg.Prefix = "/" + strings.Trim(cfg.Prefix, "/")
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.SpackVersion == "" {
		cfg.SpackVersion = "0.18.0.dev0"
	}
	if cfg.RunID == "" {
		cfg.RunID = NewRunID()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Minute
	}
	r := &runner{
		ctx: ctx, cfg: cfg, root: &Node{Name: "conformance"},
		// A redirect must be seen, not followed: Spack cannot follow one for a POST.
		client: &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		secrets: map[string]bool{},
	}
	for _, u := range [][2]string{{cfg.User, cfg.Token}, {cfg.User2, cfg.Token2}} {
		if u[1] != "" {
			r.addSecret(u[1])
			r.addSecret(base64.StdEncoding.EncodeToString([]byte(u[0] + ":" + u[1])))
		}
	}
	r.st = &state{}
	for _, g := range groups {
		g.run(r, r.root.Group(g.name))
	}
	return r.root
}

// group is one top-level part of the suite.
type group struct {
	name string
	run  func(r *runner, n *Node)
}

// groups are the parts of the suite in the order they run: later groups work on what
// earlier ones stored (the read API reads the writes' build; the look-ups need the spec id
// only the read API tells).
var groups = []group{
	{"service info (§2)", serviceInfo},
	{"transport (§1)", transport},
	{"authentication (§3)", authentication},
	{"POST /ms1/specs/new/ (§4)", specsNew},
	{"POST /ms1/builds/new/ (§4)", buildsNew},
	{"POST /ms1/builds/update/ (§4)", buildsUpdate},
	{"POST /ms1/builds/phases/update/ (§4)", phasesUpdate},
	{"POST /ms1/analyze/builds/ (§4)", analyzeBuilds},
	{"concurrency of identical writes (§4)", concurrency},
	{"ownership (§3.7)", ownership},
	{"read API /api/v1 (§6, optional)", readAPI},
	{"upstream look-ups (§5)", lookups},
}

type runner struct {
	ctx    context.Context
	cfg    Config
	root   *Node
	client *http.Client
	st     *state

	mu      sync.Mutex
	secrets map[string]bool
}

// addSecret makes s disappear from every transcript.
func (r *runner) addSecret(s string) {
	if len(s) < 4 {
		return
	}
	r.mu.Lock()
	r.secrets[s] = true
	r.mu.Unlock()
}

// T is a running check.
type T struct {
	r         *runner
	node      *Node
	mu        sync.Mutex
	exchanges []Exchange
}

// stop ends a check early; check recovers it.
type stop struct{}

// check runs f as the check name under n. Checks run one after another, in the order they
// are declared: later checks build on what earlier ones stored.
func (r *runner) check(n *Node, name string, f func(t *T)) {
	c := &Node{Name: name}
	n.Children = append(n.Children, c)
	t := &T{r: r, node: c}
	start := time.Now()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(stop); !ok {
					c.Status = Fail
					c.Messages = append(c.Messages, fmt.Sprintf("panic: %v", v))
				}
			}
		}()
		if err := r.ctx.Err(); err != nil {
			t.Skipf("run cancelled: %v", err)
		}
		f(t)
	}()
	c.Duration = time.Since(start)
	c.Exchanges = t.exchanges
	// Messages quote answers, and a broken server may echo credentials back.
	for i, m := range c.Messages {
		c.Messages[i] = string(r.redact([]byte(m)))
	}
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "%s  %s\n", c.Status, name)
	}
}

func (t *T) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.node.Status == Skip {
		t.node.Messages = nil
	}
	t.node.Status = Fail
	t.node.Messages = append(t.node.Messages, fmt.Sprintf(format, args...))
}

func (t *T) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	panic(stop{})
}

// Skipf ends the check as skipped, unless it has already failed.
func (t *T) Skipf(format string, args ...any) {
	t.mu.Lock()
	if t.node.Status != Fail {
		t.node.Status = Skip
		t.node.Messages = []string{fmt.Sprintf(format, args...)}
	}
	t.mu.Unlock()
	panic(stop{})
}

// Need skips the check when an earlier check did not leave what this one builds on.
func (t *T) Need(ok bool, what string) {
	if !ok {
		t.Skipf("needs %s, which an earlier check failed to make", what)
	}
}

// Response is an answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body (numbers as json.Number) or returns the error.
func (a *Response) JSON() (any, error) {
	dec := json.NewDecoder(bytes.NewReader(a.Body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

func (a *Response) String() string {
	body := a.Body
	if len(body) > 300 {
		body = append(body[:300:300], "..."...)
	}
	return fmt.Sprintf("%d %s", a.Status, body)
}

// request describes one HTTP request of a check.
type request struct {
	method, path string // path is joined to the server URL unless it is absolute
	body         []byte
	header       http.Header
}

// Do sends the request and records it for the transcript; a transport error fails the
// check.
func (t *T) Do(q request) *Response {
	a, err := t.try(q)
	if err != nil {
		t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	return a
}

func (t *T) try(q request) (*Response, error) {
	u := q.path
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = t.r.cfg.URL + q.path
	}
	req, err := http.NewRequestWithContext(t.r.ctx, q.method, u, bytes.NewReader(q.body))
	if err != nil {
		return nil, err
	}
	if q.body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range q.header {
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = v[0]
			continue
		}
		req.Header[k] = v
	}
	ex := Exchange{Method: q.method, URL: u, RequestHeader: t.r.redactHeader(req.Header), RequestBody: t.r.redact(q.body)}
	resp, err := t.r.client.Do(req)
	if err != nil {
		ex.Err = err.Error()
		t.record(ex)
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	a := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	ex.Status, ex.Header, ex.Body = a.Status, t.r.redactHeader(resp.Header), t.r.redact(data)
	if err != nil {
		ex.Err = "reading the body: " + err.Error()
	}
	t.record(ex)
	return a, err
}

func (t *T) record(ex Exchange) {
	t.mu.Lock()
	t.exchanges = append(t.exchanges, ex)
	t.mu.Unlock()
}

var (
	authValue = regexp.MustCompile(`(?i)^(bearer|basic)\s+.*$`)
	jwtLike   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	tokenKey  = regexp.MustCompile(`("(?:token|access_token|refresh_token)"\s*:\s*")[^"]*(")`)
)

func (r *runner) redactHeader(h http.Header) map[string][]string {
	out := map[string][]string{}
	for k, vs := range h {
		for _, v := range vs {
			if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Proxy-Authorization") {
				v = authValue.ReplaceAllString(v, "$1 <redacted>")
			} else {
				v = string(r.redact([]byte(v)))
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// redact removes API tokens, JWTs and token fields from a body: transcripts get attached to
// CI runs and must not leak credentials.
func (r *runner) redact(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	s := string(b)
	r.mu.Lock()
	for secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "<redacted>")
	}
	r.mu.Unlock()
	s = jwtLike.ReplaceAllString(s, "<redacted-jwt>")
	s = tokenKey.ReplaceAllString(s, "$1<redacted>$2")
	return []byte(s)
}

func basicHeader(user, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))}}
}

func bearerHeader(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}
