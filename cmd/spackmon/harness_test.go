package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/fixtures"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/proctest"
	"github.com/spackmon/spackmon/pkg/signing"
	"github.com/spackmon/spackmon/pkg/telemetry"
	authservice "github.com/spackmon/spackmon/services/auth/service"
)

func TestMain(m *testing.M) {
	proctest.Main(m, pgtest.Run)
}

// backend is a store a test server can run on.
type backend struct {
	name     string
	database func(t testing.TB) config.Database
}

var backends = []backend{
	{"sqlite", func(t testing.TB) config.Database { return config.Database{DataDir: t.TempDir()} }},
	{"postgres", func(t testing.TB) config.Database {
		// The data dir holds the realm's signing key.
		return config.Database{DataDir: t.TempDir(), URL: pgtest.NewDatabase(t, "spackmon", func(ctx context.Context, url string) error {
			for _, sc := range []schema{ingestSchema, authSchema} {
				if err := db.MigratePostgres(ctx, url, sc.postgres, db.WithVersionTable(sc.versionTable)); err != nil {
					return err
				}
			}
			return nil
		})}
	}},
}

// forEachBackend runs f as a subtest against a fresh server on each store.
func forEachBackend(t *testing.T, f func(t *testing.T, srv *testServer)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f(t, startServe(t, b.database(t), nil))
		})
	}
}

// testServer is spackmon serve running in this process on loopback ports.
type testServer struct {
	URL      string
	GRPCAddr string
	prefix   string // of the protocol: "/ms1"
	client   *http.Client
	db       config.Database
	// user and apiToken are the credentials of the user every test server starts with;
	// bearer, when set, is sent with every request that names no Authorization itself.
	user, apiToken string
	bearer         string
	// realm is where the server sends clients for tokens.
	realm string
}

func testConfig(d config.Database) serveConfig {
	return serveConfig{
		Database: d,
		Limits:   config.Limits{MaxBodyBytes: 256 << 20},
		Log:      config.Log{Level: config.LogLevel(slog.LevelError)},
		Process:  config.Process{ShutdownTimeout: config.Seconds(25 * time.Second)},
		Realm:    Realm{TokenTTL: config.Seconds(signing.DefaultTTL)},
		HTTPEdge: HTTPEdge{APIPrefix: "ms1", Environment: "test", IdleTimeout: 2 * time.Minute},
	}
}

// testTelemetry installs the process's telemetry once, as runServe does.
var testTelemetry = func() func(t testing.TB) *telemetry.Telemetry {
	var once sync.Once
	var tel *telemetry.Telemetry
	var err error
	return func(t testing.TB) *telemetry.Telemetry {
		once.Do(func() { tel, err = telemetry.Setup(context.Background(), "test") })
		if err != nil {
			t.Fatal(err)
		}
		return tel
	}
}()

func startServe(t testing.TB, d config.Database, adjust func(*serveConfig)) *testServer {
	t.Helper()
	return startServeLogging(t, d, adjust, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}

// startServeLogging is startServe with the server's log going to log.
func startServeLogging(t testing.TB, d config.Database, adjust func(*serveConfig), log *slog.Logger) *testServer {
	t.Helper()
	cfg := testConfig(d)
	if adjust != nil {
		adjust(&cfg)
	}
	srv := runTestServe(t, cfg, log)
	srv.user, srv.apiToken = srv.addUser(t, "alice", false)
	srv.bearer = srv.token(t, srv.user, srv.apiToken, "")
	return srv
}

// runTestServe runs serve with cfg on loopback ports until the test ends, and waits until it
// answers.
func runTestServe(t testing.TB, cfg serveConfig, log *slog.Logger) *testServer {
	t.Helper()
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	metrics := testTelemetry(t).Metrics
	go func() { done <- serveOn(ctx, cfg, log, metrics, httpLis, grpcLis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve: %v", err)
		}
	})
	srv := &testServer{URL: "http://" + httpLis.Addr().String(), GRPCAddr: grpcLis.Addr().String(),
		prefix: "/" + cfg.APIPrefix, client: &http.Client{Timeout: time.Minute}, db: cfg.Database, realm: cfg.AuthServer}
	if srv.realm == "" {
		srv.realm = srv.URL + "/auth/token/"
	}
	srv.waitReady(t)
	return srv
}

// addUser creates a user the way spackmon user add does, on the server's store.
func (s *testServer) addUser(t testing.TB, name string, admin bool) (string, string) {
	t.Helper()
	st, err := openAuthStore(context.Background(), s.db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, tok, err := authservice.NewUsers(st).Add(context.Background(), name, admin)
	if err != nil {
		t.Fatal(err)
	}
	return name, tok.Reveal()
}

// token fetches a realm token with Basic credentials, failing the test unless it gets one.
func (s *testServer) token(t testing.TB, user, apiToken, query string) string {
	t.Helper()
	a := s.do(t, http.MethodGet, "/auth/token/"+query, nil, basic(user, apiToken))
	if a.Status != http.StatusOK {
		t.Fatalf("token for %s: %d %s", user, a.Status, a.Body)
	}
	tok, _ := a.JSON(t)["token"].(string)
	if tok == "" {
		t.Fatalf("token answer without a token: %s", a.Body)
	}
	return tok
}

func basic(user, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))}}
}

func bearerHeader(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func (s *testServer) waitReady(t testing.TB) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := s.client.Get(s.URL + s.prefix + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server did not become ready")
}

// answer is an HTTP answer with its body.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body, failing the test when it is not JSON.
func (a answer) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(a.Body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %q", a.Status, err, a.Body)
	}
	return m
}

func (s *testServer) do(t testing.TB, method, path string, body []byte, header http.Header) answer {
	t.Helper()
	a, err := s.send(method, path, body, header)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// send is do for goroutines other than the test's, which must not end the test: it returns
// what went wrong instead.
func (s *testServer) send(method, path string, body []byte, header http.Header) (answer, error) {
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if _, named := header["Authorization"]; !named && s.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+s.bearer)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// post sends a JSON body the way Spack does (labelled as a form).
func (s *testServer) post(t testing.TB, path string, body any) answer {
	t.Helper()
	data, ok := body.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	return s.do(t, http.MethodPost, path, data, spackForm())
}

// spackForm is the header Spack labels its JSON bodies with.
func spackForm() http.Header {
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

func (s *testServer) get(t testing.TB, path string) answer {
	t.Helper()
	return s.do(t, http.MethodGet, path, nil, nil)
}

// testdata is the path of a file of the shared test data.
func testdata(t testing.TB, parts ...string) string { return fixtures.Path(t, parts...) }

func readTestdata(t testing.TB, parts ...string) []byte { return fixtures.Read(t, parts...) }

// path walks a decoded JSON value: path(m, "data", "build", "build_id").
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func num(t testing.TB, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a JSON number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", n)
	}
	return i
}

func wantEnvelope(t testing.TB, a answer, status int, message string) map[string]any {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a.Body)
	}
	if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	m := a.JSON(t)
	if got := num(t, m["code"]); got != int64(status) {
		t.Errorf("code %d, want %d", got, status)
	}
	if message != "" && m["message"] != message {
		t.Errorf("message %q, want %q", m["message"], message)
	}
	return m
}
