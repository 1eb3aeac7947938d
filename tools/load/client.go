package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// spackClient sends requests as the Spack client (v0.17.2, Python's urllib) does, byte for
// byte where it matters: JSON indented by two spaces, the form content type Spack declares,
// a connection per request, and the realm dance on a 401 (fetch a token from the challenge's
// realm with the user's API token, retry with it).
type spackClient struct {
	base  string // the server's URL, no trailing slash
	user  string
	token string // the API token; never printed
	http  *http.Client
	rec   *recorder

	bearer string // the realm token, once fetched
}

// Answers are read up to this size: the protocol's envelopes are small, and a client must
// not hold whatever a server sends.
const maxAnswerBytes = 1 << 20

// statusError is an answer the protocol does not allow for the request.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %.300s", e.status, e.body) }

// getServiceInfo is Spack's first request of every command run with --monitor.
func (c *spackClient) getServiceInfo(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/ms1/", nil, http.StatusOK)
	return err
}

// post sends body as JSON and returns the answer's envelope; want lists the statuses the
// protocol allows for it.
func (c *spackClient) post(ctx context.Context, path string, body any, want ...int) (map[string]any, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Python's json module escapes no HTML characters
	enc.SetIndent("", "  ")
	if err := enc.Encode(body); err != nil {
		return nil, err
	}
	answer, err := c.do(ctx, http.MethodPost, path, bytes.TrimSuffix(buf.Bytes(), []byte("\n")), want...)
	if err != nil {
		return nil, err
	}
	var envelope map[string]any
	if err := json.Unmarshal(answer, &envelope); err != nil {
		return nil, fmt.Errorf("%s: answer is not JSON: %.200s", path, answer)
	}
	return envelope, nil
}

// do sends one request, fetching a realm token first when the server challenges it.
func (c *spackClient) do(ctx context.Context, method, path string, body []byte, want ...int) ([]byte, error) {
	endpoint := method + " " + path
	status, header, answer, took, err := c.send(ctx, method, path, body)
	if err != nil && c.bearer == "" && body != nil {
		// A write without a token must be answered with its challenge: Spack sends the whole
		// body before it reads the answer, and gives up when the connection is reset (as it
		// was when the gateway challenged a large body without reading it). Named for what
		// it is, so that the run's errors say it.
		err = fmt.Errorf("challenge lost, no answer to a write without a token: %w", err)
	}
	if err == nil && status == http.StatusUnauthorized && c.challenged(header) != "" {
		c.rec.record("(challenge) "+endpoint, took, 0, int64(len(answer)), nil)
		if err := c.fetchToken(ctx, header); err != nil {
			return nil, err
		}
		status, _, answer, took, err = c.send(ctx, method, path, body)
	}
	if err == nil && !slices.Contains(want, status) {
		err = &statusError{status, string(answer)}
	}
	c.rec.record(endpoint, took, int64(len(body)), int64(len(answer)), err)
	return answer, err
}

// send makes one request; body nil sends none.
func (c *spackClient) send(ctx context.Context, method, path string, body []byte) (int, http.Header, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, 0, err
	}
	req.Close = true // Connection: close, as urllib sends
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "Python-urllib/3.11")
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Body = nil
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	return c.exchange(req)
}

func (c *spackClient) exchange(req *http.Request) (int, http.Header, []byte, time.Duration, error) {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, time.Since(start), err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	return resp.StatusCode, resp.Header, answer, time.Since(start), err
}

// challenged is the realm a 401's challenge names, or "".
func (c *spackClient) challenged(h http.Header) string {
	return challengeParam(h.Get("Www-Authenticate"), "realm")
}

// fetchToken asks the challenge's realm for a token, as Spack does: basic credentials of the
// user's API token and the Service header.
func (c *spackClient) fetchToken(ctx context.Context, challenge http.Header) error {
	realm := c.challenged(challenge)
	if !strings.HasPrefix(realm, "http://") && !strings.HasPrefix(realm, "https://") {
		return fmt.Errorf("challenge realm %q is not a URL", realm)
	}
	service := challengeParam(challenge.Get("Www-Authenticate"), "service")
	status, answer, took, err := c.askRealm(ctx, realm, service)
	if err == nil && status == http.StatusTooManyRequests {
		// Spack gives up on it too: logins with good credentials must never be limited,
		// however many of one user arrive at once.
		err = fmt.Errorf("the realm refused a login with good credentials: %w", &statusError{status, string(answer)})
	} else if err == nil && status != http.StatusOK {
		err = &statusError{status, string(answer)}
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err == nil && (json.Unmarshal(answer, &tok) != nil || tok.Token == "") {
		err = errors.New("the realm's answer holds no token")
	}
	c.rec.record("GET /auth/token/", took, 0, int64(len(answer)), err)
	c.bearer = tok.Token
	return err
}

func (c *spackClient) askRealm(ctx context.Context, realm, service string) (int, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm, nil)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Close = true
	req.SetBasicAuth(c.user, c.token)
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("Service", service)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "spackmoncli")
	status, _, answer, took, err := c.exchange(req)
	return status, answer, took, err
}

// challengeParam reads one quoted parameter of a WWW-Authenticate challenge.
func challengeParam(challenge, name string) string {
	for part := range strings.SplitSeq(challenge, ",") {
		part = strings.TrimSpace(part)
		if _, rest, ok := strings.Cut(part, " "); ok && !strings.Contains(part[:strings.IndexByte(part, ' ')], "=") {
			part = rest // the scheme before the first parameter
		}
		if v, ok := strings.CutPrefix(part, name+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
