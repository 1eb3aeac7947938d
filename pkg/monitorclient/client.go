// Package monitorclient is a client of the Spack Monitor protocol (PROTOCOL.md): the /ms1
// writes and service info, authenticated the way Spack does it.
//
// No token is sent up front. The first answer 401 starts the realm flow: the client reads
// the challenge, asks the realm for a token with Basic user:API-token, retries the call once
// with the bearer and keeps that bearer for later calls until one of them gets 401 again.
// A Client is safe for concurrent use; concurrent calls that meet the same expired token
// share one trip to the realm.
package monitorclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/authn"
)

// DefaultMaxResponseBytes bounds what is read of one answer. Every answer of the protocol is
// a small envelope; only a broken or hostile server sends more.
const DefaultMaxResponseBytes = 4 << 20

// Options adjust a Client. The zero value is usable.
type Options struct {
	// HTTPClient sends the requests; nil means one that follows no redirect of a POST
	// (PROTOCOL.md §1: servers never redirect them, and a body re-sent elsewhere is a leak).
	HTTPClient *http.Client
	// Timeout of each request of the default HTTPClient; 0 leaves only the context's.
	Timeout time.Duration
	// Prefix of the protocol's routes, "ms1" when empty (SPACKMON_API_PREFIX).
	Prefix string
	// UserAgent of every request; "spackmon-monitorclient" when empty.
	UserAgent string
	// MaxResponseBytes bounds the bytes read of one answer; DefaultMaxResponseBytes when 0.
	MaxResponseBytes int64
}

// Client talks to one server as one user.
type Client struct {
	base        string // scheme://host[/path], without a trailing slash
	prefix      string // "/ms1"
	user, token string
	hc          *http.Client
	userAgent   string
	maxResp     int64

	mu     sync.Mutex
	bearer string
	// realmSem lets one caller at a time fetch a token; it is a channel rather than a
	// mutex so that a waiting caller still honours its context.
	realmSem chan struct{}
}

// New makes a client of the server at baseURL (e.g. http://127.0.0.1:8080). user and token
// are the API credentials (SPACKMON_USER, SPACKMON_TOKEN); they are only sent to the realm
// the server names, never to the API itself.
func New(baseURL, user, token string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("monitorclient: server URL %q: want an absolute http(s) URL", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("monitorclient: server URL %q: want no query or fragment", baseURL)
	}
	c := &Client{
		base:      strings.TrimRight(u.String(), "/"),
		prefix:    "/" + strings.Trim(opts.Prefix, "/"),
		user:      user,
		token:     token,
		hc:        opts.HTTPClient,
		userAgent: opts.UserAgent,
		maxResp:   opts.MaxResponseBytes,
		realmSem:  make(chan struct{}, 1),
	}
	if c.prefix == "/" {
		c.prefix = "/ms1"
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: opts.Timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.Method != http.MethodGet || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	}
	if c.userAgent == "" {
		c.userAgent = "spackmon-monitorclient"
	}
	if c.maxResp <= 0 {
		c.maxResp = DefaultMaxResponseBytes
	}
	return c, nil
}

// Error is an answer the client could not use: a status other than 200/201, or a 2xx whose
// body is not what the protocol promises.
type Error struct {
	Method, URL string
	// Status is the HTTP status of the answer.
	Status int
	// Message is the server's "message" when it sent one, else a clipped copy of the body.
	Message string
	// Data is the server's "data" when the error carried one (builds/new does).
	Data json.RawMessage
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: %d: %s", e.Method, e.URL, e.Status, msg)
}

// StatusOf returns the HTTP status an error carries, or 0 when it carries none (a transport
// failure or a cancelled context).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// ID is an id on the wire: a JSON number by the protocol; upstream-compatible servers may
// quote it, which Spack echoes back verbatim, so both are read.
type ID int64

func (id *ID) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("id %s is not an integer", clip(b))
	}
	*id = ID(n)
	return nil
}

// ServiceInfo is what GET /ms1/ answers (PROTOCOL.md §2).
type ServiceInfo struct {
	ID                  string `json:"id"`
	Status              string `json:"status"`
	Name                string `json:"name"`
	Description         string `json:"description"`
	Version             string `json:"version"`
	Environment         string `json:"environment"`
	AuthInstructionsURL string `json:"auth_instructions_url"`
	// Raw is the whole answer, for the fields not named here.
	Raw json.RawMessage `json:"-"`
}

// Spec is the summary of a stored spec that specs/new answers with.
type Spec struct {
	FullHash     string `json:"full_hash"`
	Name         string `json:"name"`
	Version      string `json:"version"`
	SpackVersion string `json:"spack_version"`
	// Specs maps each direct dependency's name to its full hash.
	Specs map[string]string `json:"specs"`
}

// NewBuildRequest is the body of builds/new. The five environment fields, FullHash and
// SpackVersion are required by the server.
type NewBuildRequest struct {
	FullHash      string `json:"full_hash"`
	SpackVersion  string `json:"spack_version"`
	Hostname      string `json:"hostname"`
	KernelVersion string `json:"kernel_version"`
	HostOS        string `json:"host_os"`
	HostTarget    string `json:"host_target"`
	Platform      string `json:"platform"`
	// Tags are sent as Spack sends them, one comma-separated string.
	Tags []string `json:"-"`
	// Spec, when set, is a spec document the server imports before the build.
	Spec json.RawMessage `json:"spec,omitempty"`
}

func (r NewBuildRequest) MarshalJSON() ([]byte, error) {
	type plain NewBuildRequest
	return json.Marshal(struct {
		plain
		Tags string `json:"tags,omitempty"`
	}{plain(r), strings.Join(r.Tags, ",")})
}

// BuildRef names a build in the answers of the build writes.
type BuildRef struct {
	ID           ID     `json:"build_id"`
	SpecFullHash string `json:"spec_full_hash"`
	SpecName     string `json:"spec_name"`
}

// NewBuildResult is the answer of builds/new.
type NewBuildResult struct {
	BuildCreated            bool     `json:"build_created"`
	BuildEnvironmentCreated bool     `json:"build_environment_created"`
	Build                   BuildRef `json:"build"`
}

// Phase is the answer of builds/phases/update.
type Phase struct {
	ID     ID     `json:"id"`
	Status string `json:"status"`
	Name   string `json:"name"`
}

// ServiceInfo fetches GET /ms1/. It needs no credentials.
func (c *Client) ServiceInfo(ctx context.Context) (ServiceInfo, error) {
	a, err := c.call(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return ServiceInfo{}, err
	}
	var info ServiceInfo
	if err := a.decode(a.body, &info); err != nil {
		return ServiceInfo{}, err
	}
	info.Raw = a.body
	return info, nil
}

// NewSpec posts a spec document (any layout the server accepts: v2/v3 nodes, a "spec"
// wrapper, the v1 list) as specs/new. created tells whether the root spec is new.
func (c *Client) NewSpec(ctx context.Context, specJSON []byte, spackVersion string) (created bool, spec Spec, err error) {
	if !json.Valid(specJSON) {
		return false, Spec{}, errors.New("monitorclient: the spec document is not valid JSON")
	}
	body, err := json.Marshal(struct {
		Spec         json.RawMessage `json:"spec"`
		SpackVersion string          `json:"spack_version"`
	}{specJSON, spackVersion})
	if err != nil {
		return false, Spec{}, err
	}
	a, err := c.call(ctx, http.MethodPost, "/specs/new/", body)
	if err != nil {
		return false, Spec{}, err
	}
	var data struct {
		Spec *Spec `json:"spec"`
	}
	if err := a.envelope(&data); err != nil {
		return false, Spec{}, err
	}
	if data.Spec == nil {
		// Upstream servers answer with the spec itself as data.
		spec = Spec{}
		if err := a.envelope(&spec); err != nil {
			return false, Spec{}, err
		}
	} else {
		spec = *data.Spec
	}
	// The status, not data.created, because upstream servers send no such field.
	return a.status == http.StatusCreated, spec, nil
}

// NewBuild gets or creates a build (builds/new).
func (c *Client) NewBuild(ctx context.Context, req NewBuildRequest) (NewBuildResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return NewBuildResult{}, err
	}
	a, err := c.call(ctx, http.MethodPost, "/builds/new/", body)
	if err != nil {
		return NewBuildResult{}, err
	}
	var res NewBuildResult
	if err := a.envelope(&res); err != nil {
		return NewBuildResult{}, err
	}
	return res, nil
}

// UpdateBuildStatus sets a build's status: CANCELLED, SUCCESS, NOTRUN or FAILED.
func (c *Client) UpdateBuildStatus(ctx context.Context, buildID int64, status string) (BuildRef, error) {
	return c.buildWrite(ctx, "/builds/update/", map[string]any{"build_id": buildID, "status": status})
}

// UpdatePhase records one phase of a build; output nil is sent as null (Spack does that when
// the phase's log file is missing).
func (c *Client) UpdatePhase(ctx context.Context, buildID int64, phaseName, status string, output *string) (Phase, error) {
	body, err := json.Marshal(map[string]any{"build_id": buildID, "phase_name": phaseName, "status": status, "output": output})
	if err != nil {
		return Phase{}, err
	}
	a, err := c.call(ctx, http.MethodPost, "/builds/phases/update/", body)
	if err != nil {
		return Phase{}, err
	}
	var data struct {
		Phase Phase `json:"build_phase"`
	}
	if err := a.envelope(&data); err != nil {
		return Phase{}, err
	}
	return data.Phase, nil
}

// Analyze posts analyzer results for a build (analyze/builds). metadata must marshal to a
// JSON object keyed by analyzer name; a json.RawMessage is sent as it is.
func (c *Client) Analyze(ctx context.Context, buildID int64, metadata any) (BuildRef, error) {
	return c.buildWrite(ctx, "/analyze/builds/", map[string]any{"build_id": buildID, "metadata": metadata})
}

func (c *Client) buildWrite(ctx context.Context, route string, v any) (BuildRef, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return BuildRef{}, err
	}
	a, err := c.call(ctx, http.MethodPost, route, body)
	if err != nil {
		return BuildRef{}, err
	}
	var data struct {
		Build BuildRef `json:"build"`
	}
	if err := a.envelope(&data); err != nil {
		return BuildRef{}, err
	}
	return data.Build, nil
}

// answer is a 200/201 answer read in full.
type answer struct {
	method, url string
	status      int
	body        []byte
}

// envelope decodes the "data" of a success envelope into v.
func (a *answer) envelope(v any) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := a.decode(a.body, &env); err != nil {
		return err
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return &Error{Method: a.method, URL: a.url, Status: a.status, Message: "answer without data: " + clip(a.body)}
	}
	return a.decode(env.Data, v)
}

func (a *answer) decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return &Error{Method: a.method, URL: a.url, Status: a.status, Message: fmt.Sprintf("unexpected answer (%v): %s", err, clip(a.body))}
	}
	return nil
}

// call sends one protocol request, running the realm flow on a 401.
func (c *Client) call(ctx context.Context, method, route string, body []byte) (*answer, error) {
	return c.callURL(ctx, method, c.base+c.prefix+route, body)
}

// JUnitBuild is a build a JUnit report made.
type JUnitBuild struct {
	BuildID      int64  `json:"build_id"`
	BuildName    string `json:"build_name"`
	Status       string `json:"status"`
	SpecFullHash string `json:"spec_full_hash"`
	Tests        int64  `json:"tests"`
}

// SubmitJUnit posts a JUnit report to spackmon's /api/v1/junit, with the names in params
// (project, site, build, file_name), and returns the builds it made.
func (c *Client) SubmitJUnit(ctx context.Context, report []byte, params url.Values) ([]JUnitBuild, error) {
	a, err := c.callURL(ctx, http.MethodPost, c.base+"/api/v1/junit?"+params.Encode(), report)
	if err != nil {
		return nil, err
	}
	var res struct {
		Builds []JUnitBuild `json:"builds"`
	}
	if err := a.decode(a.body, &res); err != nil {
		return nil, err
	}
	return res.Builds, nil
}

// callURL sends one request to u, running the realm flow on a 401.
func (c *Client) callURL(ctx context.Context, method, u string, body []byte) (*answer, error) {
	bearer := c.currentBearer()
	resp, err := c.send(ctx, method, u, body, bearer)
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusUnauthorized {
		// Spack retries exactly once per call: a second 401 is the answer.
		if bearer, err = c.renew(ctx, resp, bearer); err != nil {
			return nil, err
		}
		if resp, err = c.send(ctx, method, u, body, bearer); err != nil {
			return nil, err
		}
	}
	if resp.status != http.StatusOK && resp.status != http.StatusCreated {
		return nil, resp.err()
	}
	return &answer{method: method, url: u, status: resp.status, body: resp.body}, nil
}

func (c *Client) currentBearer() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bearer
}

// renew returns the bearer to retry a call with that got 401 with stale (possibly "").
func (c *Client) renew(ctx context.Context, refused *response, stale string) (string, error) {
	select {
	case c.realmSem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.realmSem }()
	c.mu.Lock()
	current := c.bearer
	c.mu.Unlock()
	if current != stale {
		// Another call renewed the token while this one was refused.
		return current, nil
	}
	tok, err := c.fetchToken(ctx, refused)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.bearer = tok
	c.mu.Unlock()
	return tok, nil
}

// fetchToken runs the realm exchange of a 401 answer's challenge.
func (c *Client) fetchToken(ctx context.Context, refused *response) (string, error) {
	header := refused.header.Get("Www-Authenticate")
	if header == "" {
		e := refused.err()
		e.Message = "refused without a Www-Authenticate challenge: " + e.Message
		return "", e
	}
	ch, err := authn.ParseChallenge(header)
	if err == nil {
		ru, perr := url.Parse(ch.Realm)
		switch {
		case perr != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "":
			err = fmt.Errorf("realm %q is not an absolute http(s) URL", ch.Realm)
		case ru.Scheme == "http" && strings.EqualFold(refusedScheme(refused), "https"):
			// The API token would cross the network in clear where the server itself was
			// reached over TLS.
			err = fmt.Errorf("realm %q is plain http for a server reached over https", ch.Realm)
		}
	}
	if err != nil {
		e := refused.err()
		e.Message = fmt.Sprintf("malformed challenge %q: %v", clip([]byte(header)), err)
		return "", e
	}
	if c.user == "" || c.token == "" {
		e := refused.err()
		e.Message = "the server asks for credentials and no user or API token is set (SPACKMON_USER, SPACKMON_TOKEN)"
		return "", e
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ch.Realm, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.token)))
	req.Header.Set("Service", ch.Service)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.do(req)
	if err != nil {
		return "", err
	}
	// A realm that challenges in turn is not followed: Spack recurses without end there.
	if resp.status != http.StatusOK && resp.status != http.StatusCreated {
		e := resp.err()
		e.Message = "the realm refused the credentials: " + e.Message
		return "", e
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(resp.body, &tok); err != nil || tok.Token == "" {
		// Not the body: it may hold a credential under another name.
		e := resp.err()
		e.Message = fmt.Sprintf("the realm answered without a token (%d bytes of %s)", len(resp.body), resp.header.Get("Content-Type"))
		return "", e
	}
	return tok.Token, nil
}

// refusedScheme is the scheme of the URL the refused request went to.
func refusedScheme(r *response) string {
	if u, err := url.Parse(r.url); err == nil {
		return u.Scheme
	}
	return ""
}

// response is any answer, read in full up to the size limit.
type response struct {
	method, url string
	status      int
	header      http.Header
	body        []byte
}

func (r *response) err() *Error {
	e := &Error{Method: r.method, URL: r.url, Status: r.status}
	var env struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(r.body, &env) == nil && env.Message != "" {
		e.Message, e.Data = env.Message, env.Data
	} else {
		e.Message = clip(r.body)
	}
	return e
}

func (c *Client) send(ctx context.Context, method, u string, body []byte, bearer string) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return c.do(req)
}

func (c *Client) do(req *http.Request) (*response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResp+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Redacted(), err)
	}
	if int64(len(body)) > c.maxResp {
		return nil, &Error{Method: req.Method, URL: req.URL.Redacted(), Status: resp.StatusCode,
			Message: fmt.Sprintf("answer larger than %d bytes", c.maxResp)}
	}
	return &response{method: req.Method, url: req.URL.Redacted(), status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// clip shortens a body for an error message and keeps it printable.
func clip(b []byte) string {
	const max = 300
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return strings.ToValidUTF8(s, "?")
}
