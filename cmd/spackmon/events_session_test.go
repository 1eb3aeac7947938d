package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/metadata"

	"github.com/spackmon/spackmon/pkg/browsertest"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// openEventsWith opens a build's event stream with client, adding the header given.
func openEventsWith(t *testing.T, ctx context.Context, client *http.Client, srv *testServer, id int64, header http.Header) (*bufio.Reader, *http.Response) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/builds/%d/events/stream", srv.URL, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return bufio.NewReader(resp.Body), resp
}

// With private reads the event stream needs credentials, as the read API does, and takes
// the web session cookie besides a token: the build page's EventSource can send no header.
func TestBuildEventStreamWithSession(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.PrivateReads = true })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	writer, _ := grpcClients(t, srv.GRPCAddr)
	auth := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+srv.bearer)
	id := newWatchedBuild(t, auth, writer)

	if _, resp := openEventsWith(t, ctx, http.DefaultClient, srv, id, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the stream without credentials: %d", resp.StatusCode)
	}
	forged := http.Header{"Cookie": {"spackmon_session=not-a-token"}}
	if _, resp := openEventsWith(t, ctx, http.DefaultClient, srv, id, forged); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the stream with a cookie that is no session: %d", resp.StatusCode)
	}

	v := newVisitor(t)
	v.client.Timeout = 0 // the stream's context bounds it
	resp, _ := v.visit(http.MethodPost, srv.URL+"/login", url.Values{"name": {srv.user}, "token": {srv.apiToken}, "next": {"/"}}, nil)
	if resp.StatusCode != http.StatusOK || v.setCookie("spackmon_session") == nil {
		t.Fatalf("logging in: %d", resp.StatusCode)
	}
	events, resp := openEventsWith(t, ctx, v.client, srv, id, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the stream with the session cookie: %d", resp.StatusCode)
	}
	if _, err := writer.UpdatePhase(auth, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: "build", Status: "ERROR", Output: []byte(compileErrorLog)}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, events); ev.Event != "phase" || path(ev.Data, "phase", "phase", "name") != "build" {
		t.Errorf("the phase posted after: %+v", ev)
	}

	// The pages' links to JSON read with the session too; without it they are refused.
	for _, p := range []string{fmt.Sprintf("/api/v1/builds/%d/events?kind=error", id), fmt.Sprintf("/api/v1/builds/%d", id), "/api/v1/specs"} {
		if resp, body := v.visit(http.MethodGet, srv.URL+p, nil, nil); resp.StatusCode != http.StatusOK ||
			resp.Header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("%s with the session: %d %q %s", p, resp.StatusCode, resp.Header.Get("Cache-Control"), body)
		}
		if resp, _ := newVisitor(t).visit(http.MethodGet, srv.URL+p, nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d", p, resp.StatusCode)
		}
	}
}

// With private reads the build page, reached through the login form, still goes live.
func TestBuildPageLiveWithPrivateReads(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.PrivateReads = true })
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+srv.bearer)
	writer, _ := grpcClients(t, srv.GRPCAddr)
	id := newWatchedBuild(t, ctx, writer)
	b.Run("log in on the way to the build page", chromedp.Navigate(fmt.Sprintf("%s/builds/%d", srv.URL, id)),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SetValue(chromedp.CSS("#name"), srv.user), chromedp.SetValue(chromedp.CSS("#token"), srv.apiToken),
		chromedp.Submit(chromedp.CSS("#login-form")), chromedp.WaitVisible(chromedp.CSS("#phases")))
	if _, err := writer.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: "install", Status: "ERROR", Output: []byte(compileErrorLog)}); err != nil {
		t.Fatal(err)
	}
	b.Run("see the phase appear", chromedp.WaitVisible(chromedp.CSS(`#phases tr[data-phase="install"]`)))
}
