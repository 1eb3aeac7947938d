package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The two ways the server used to break Spack clients under concurrency must fail a run,
// not be worked around: these servers on loopback misbehave in those ways on purpose.

// A server that resets the connection of a write sent without a token, as the gateway did
// when it challenged a large body without reading it.
func TestChallengeLostToResetFailsTheRun(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			if _, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
				conn.(*net.TCPConn).SetLinger(0) // closing with the body unread sends a reset
			}
			conn.Close()
		}
	}()
	c, rec := newTestClient("http://" + lis.Addr().String())
	_, err = c.post(context.Background(), "/ms1/specs/new/", map[string]string{"padding": strings.Repeat("x", 8<<20)}, http.StatusCreated)
	if err == nil || !strings.Contains(err.Error(), "challenge lost") {
		t.Fatalf("error %v, want a challenge lost to a reset", err)
	}
	wantOneError(t, rec, "POST /ms1/specs/new/")
}

// A realm that answers 429 to a login with good credentials, as the realm did to many
// logins of one user at once.
func TestRateLimitedLoginFailsTheRun(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("POST /ms1/specs/new/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", `Bearer realm="`+srv.URL+`/auth/token/",service="`+srv.URL+`",scope="build"`)
		http.Error(w, `{"message": "no token"}`, http.StatusUnauthorized)
	})
	mux.HandleFunc("GET /auth/token/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message": "Too many failed attempts; try again in 1 s."}`, http.StatusTooManyRequests)
	})
	c, rec := newTestClient(srv.URL)
	_, err := c.post(context.Background(), "/ms1/specs/new/", map[string]string{}, http.StatusCreated)
	if err == nil || !strings.Contains(err.Error(), "the realm refused a login with good credentials") {
		t.Fatalf("error %v, want the realm's refusal", err)
	}
	wantOneError(t, rec, "GET /auth/token/")
}

func newTestClient(url string) (*spackClient, *recorder) {
	rec := newRecorder()
	return &spackClient{base: url, user: "load", token: "smt_0123456789ab_secret", rec: rec,
		http: &http.Client{Timeout: time.Minute}}, rec
}

// wantOneError checks that the run counts one error in all, on endpoint's row.
func wantOneError(t *testing.T, rec *recorder, endpoint string) {
	t.Helper()
	if tot := rec.totals(); tot.errors != 1 {
		t.Errorf("%d errors counted, want 1: %v", tot.errors, rec.kept())
	}
	if e := rec.endpoints[endpoint]; e == nil || e.errors != 1 {
		t.Errorf("row %s: %+v", endpoint, e)
	}
}
