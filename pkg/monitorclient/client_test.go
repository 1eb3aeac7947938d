package monitorclient

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The client's happy paths run against a real spackmon serve in cmd/spackmon
// (client_test.go); these servers only play what a real one must never do.

type fakeServer struct {
	*httptest.Server
	api, realm atomic.Int32
}

// newFake serves api on /ms1/ and realm on /auth/token/, counting the calls of each.
func newFake(t *testing.T, api, realm http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ms1/", func(w http.ResponseWriter, r *http.Request) { f.api.Add(1); api(w, r) })
	mux.HandleFunc("/auth/token/", func(w http.ResponseWriter, r *http.Request) { f.realm.Add(1); realm(w, r) })
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) challenge() string {
	return `Bearer realm="` + f.URL + `/auth/token/",service="` + f.URL + `",scope="build"`
}

func newClient(t *testing.T, f *fakeServer) *Client {
	t.Helper()
	c, err := New(f.URL, "alice", "secret", Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantStatus(t *testing.T, err error, status int, contains string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *Error", err, err)
	}
	if e.Status != status || !strings.Contains(e.Message, contains) {
		t.Fatalf("error status %d message %q, want %d and %q", e.Status, e.Message, status, contains)
	}
}

func TestSecond401IsTheAnswer(t *testing.T) {
	var f *fakeServer
	var sawBasic, sawService, sawBearer atomic.Bool
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			sawBearer.Store(true)
		}
		w.Header().Set("Www-Authenticate", f.challenge()+`,error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"The token is not valid.","code":401}`))
	}, func(w http.ResponseWriter, r *http.Request) {
		sawBasic.Store(r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:secret")))
		sawService.Store(r.Header.Get("Service") == f.URL)
		w.Write([]byte(`{"token":"tok-1"}`))
	})
	_, _, err := newClient(t, f).NewSpec(context.Background(), []byte(`{"nodes":[]}`), "0.17.2")
	wantStatus(t, err, http.StatusUnauthorized, "The token is not valid.")
	if f.api.Load() != 2 || f.realm.Load() != 1 {
		t.Errorf("%d API calls and %d realm calls, want 2 and 1", f.api.Load(), f.realm.Load())
	}
	if !sawBasic.Load() || !sawService.Load() || !sawBearer.Load() {
		t.Errorf("basic %t, service header %t, bearer on the retry %t", sawBasic.Load(), sawService.Load(), sawBearer.Load())
	}
}

func TestRealmThatChallengesIsNotFollowed(t *testing.T) {
	var f *fakeServer
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", f.challenge())
		w.WriteHeader(http.StatusUnauthorized)
	}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", f.challenge())
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Invalid credentials.","code":401}`))
	})
	_, err := newClient(t, f).UpdateBuildStatus(context.Background(), 1, "SUCCESS")
	wantStatus(t, err, http.StatusUnauthorized, "Invalid credentials.")
	if f.api.Load() != 1 || f.realm.Load() != 1 {
		t.Errorf("%d API calls and %d realm calls, want 1 and 1", f.api.Load(), f.realm.Load())
	}
}

func TestMalformedChallenge(t *testing.T) {
	for name, header := range map[string]string{
		"missing":        "",
		"no realm":       `Bearer service="svc",scope="build"`,
		"no service":     `Bearer realm="http://127.0.0.1:1/auth/token/"`,
		"relative realm": `Bearer realm="/auth/token/",service="svc"`,
		"unquoted":       `Bearer realm=http://x/,service=svc`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				if header != "" {
					w.Header().Set("Www-Authenticate", header)
				}
				w.WriteHeader(http.StatusUnauthorized)
			}, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"token":"t"}`)) })
			_, err := newClient(t, f).UpdatePhase(context.Background(), 1, "build", "SUCCESS", nil)
			want := "malformed challenge"
			if header == "" {
				want = "without a Www-Authenticate challenge"
			}
			wantStatus(t, err, http.StatusUnauthorized, want)
			if f.realm.Load() != 0 {
				t.Errorf("the realm was asked %d times", f.realm.Load())
			}
		})
	}
}

func TestRealmWithoutToken(t *testing.T) {
	var f *fakeServer
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", f.challenge())
		w.WriteHeader(http.StatusUnauthorized)
	}, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"access_token":""}`)) })
	_, err := newClient(t, f).Analyze(context.Background(), 1, map[string]any{})
	wantStatus(t, err, http.StatusOK, "without a token")
	if f.api.Load() != 1 {
		t.Errorf("%d API calls, want 1", f.api.Load())
	}
}

func TestAnswerSizeLimit(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"spackmon","description":"` + strings.Repeat("x", 2000) + `"}`))
	}, nil)
	c, err := New(f.URL, "", "", Options{MaxResponseBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ServiceInfo(context.Background())
	wantStatus(t, err, http.StatusOK, "larger than 1000 bytes")
}

func TestErrorCarriesStatusAndMessage(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"message":"The spec with full hash abc and spack version 1 does not exist.","data":{"build_created":false},"code":400}`))
	}, nil)
	_, err := newClient(t, f).NewBuild(context.Background(), NewBuildRequest{FullHash: "abc"})
	wantStatus(t, err, http.StatusBadRequest, "does not exist")
	var e *Error
	errors.As(err, &e)
	if string(e.Data) != `{"build_created":false}` || StatusOf(err) != http.StatusBadRequest {
		t.Errorf("data %s, StatusOf %d", e.Data, StatusOf(err))
	}
}

func TestNoRedirectOfPosts(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere/", http.StatusTemporaryRedirect)
	}, nil)
	_, err := newClient(t, f).UpdateBuildStatus(context.Background(), 1, "SUCCESS")
	wantStatus(t, err, http.StatusTemporaryRedirect, "")
	if f.api.Load() != 1 {
		t.Errorf("%d API calls, want 1", f.api.Load())
	}
}

func TestContextCancelled(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newClient(t, f).ServiceInfo(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://x/?q=1"} {
		if _, err := New(u, "", "", Options{}); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}

// TestExpiredTokenIsRenewed plays a realm whose tokens last two calls, as the capture
// v0.17.2-token-expiry.jsonl does with three: each expiry costs one realm trip and one retry.
func TestExpiredTokenIsRenewed(t *testing.T) {
	var f *fakeServer
	var issued, uses atomic.Int32
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		want := "Bearer tok-" + string(rune('0'+issued.Load()))
		if issued.Load() == 0 || r.Header.Get("Authorization") != want || uses.Add(1) > 2 {
			w.Header().Set("Www-Authenticate", f.challenge()+`,error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"message":"Status updated","data":{"build":{"build_id":"7"}},"code":200}`))
	}, func(w http.ResponseWriter, r *http.Request) {
		uses.Store(0)
		w.Write([]byte(`{"token":"tok-` + string(rune('0'+issued.Add(1))) + `"}`))
	})
	c := newClient(t, f)
	for i := range 5 {
		ref, err := c.UpdateBuildStatus(context.Background(), 7, "SUCCESS")
		if err != nil || ref.ID != 7 {
			t.Fatalf("call %d: %+v, %v", i, ref, err)
		}
	}
	// Calls 1, 3 and 5 meet a missing or spent token.
	if f.realm.Load() != 3 || f.api.Load() != 8 {
		t.Errorf("%d realm calls and %d API calls, want 3 and 8", f.realm.Load(), f.api.Load())
	}
}

// A server reached over TLS that names a plain-http realm does not get the API token sent
// in clear.
func TestNoPlainHTTPRealmForTLSServer(t *testing.T) {
	var realmCalls atomic.Int32
	realm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		realmCalls.Add(1)
		w.Write([]byte(`{"token":"t"}`))
	}))
	defer realm.Close()
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", `Bearer realm="`+realm.URL+`/auth/token/",service="svc",scope="build"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer api.Close()
	c, err := New(api.URL, "alice", "secret", Options{HTTPClient: api.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdatePhase(context.Background(), 1, "build", "SUCCESS", nil)
	wantStatus(t, err, http.StatusUnauthorized, "plain http")
	if realmCalls.Load() != 0 {
		t.Error("the API token went to a plain-http realm")
	}
}
