package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/signing"
)

// logBuffer collects a server's log lines for a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// waitLog polls the log until it holds every want; the deadline only bounds a failing test.
func (b *logBuffer) waitLog(t *testing.T, want ...string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		missing := ""
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say %q:\n%s", missing, b.String())
		}
	}
}

// When the database goes away under a running server, its log says why: the health check
// and the failed write carry PostgreSQL's own reason, not only "unavailable".
func TestLogNamesTheCauseOfUnavailable(t *testing.T) {
	var logs logBuffer
	d := backends[1].database(t)
	srv := startServeLogging(t, d, nil, logs.logger())
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")

	u, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := pgx.Connect(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	cause := `database \"` + name + `\" does not exist`
	wantError(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusServiceUnavailable)
	logs.waitLog(t, "call failed: unavailable", "method=/spackmon.ingest.v1.IngestService/NewBuild", cause,
		"health check failed: not serving", "backend not serving", "backend unavailable")
}

// A write whose client gives up is logged by the gateway and by the service that was doing
// it, a refused write with its reason, and a stop as it begins and once it is done.
func TestLogCancelledWriteAndStop(t *testing.T) {
	var logs logBuffer
	// Registered first, so it runs once the server's own cleanup has stopped it.
	t.Cleanup(func() {
		for _, want := range []string{`"spackmon stopping: finishing the requests in flight" reason="context canceled"`, `msg="spackmon stopped"`} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the log does not say %s:\n%s", want, logs.String())
			}
		}
	})
	d := backends[0].database(t)
	srv := startServeLogging(t, d, nil, logs.logger())
	body, err := json.Marshal(singularitySpec(t))
	if err != nil {
		t.Fatal(err)
	}
	release := lockIngestDatabase(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/ms1/specs/new/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.bearer)
	done := make(chan error, 1)
	go func() {
		resp, err := srv.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// The write waits on the lock: give it a moment to reach the store, then leave.
	logs.waitLog(t, "backend serving")
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the write was not cancelled: %v", err)
	}
	release()
	// A refused write is logged with the reason the client got.
	wantError(t, srv.post(t, "/ms1/builds/new/", map[string]any{"full_hash": "nosuchhash"}), http.StatusBadRequest)
	logs.waitLog(t, `level=INFO msg="call refused" method=/spackmon.ingest.v1.IngestService/NewBuild code=`)
	logs.waitLog(t, `level=INFO msg="request ended by the client"`, "path=/ms1/specs/new", `level=INFO msg="call ended by its caller"`, "method=/spackmon.ingest.v1.IngestService/NewSpec")
}

// Where the realm's generated signing key lives is said at start, also with PostgreSQL,
// with what several auth processes on one database need.
func TestLogSaysWhereTheSigningKeyIs(t *testing.T) {
	var logs logBuffer
	d := backends[1].database(t)
	startServeLogging(t, d, nil, logs.logger())
	logs.waitLog(t, `msg="signing key generated" file=`+filepath.Join(d.DataDir, signing.KeyFileName),
		"give each SPACKMON_AUTH_SIGNING_KEY_FILE")
	if _, err := os.Stat(filepath.Join(d.DataDir, signing.KeyFileName)); err != nil {
		t.Fatal(err)
	}
}
