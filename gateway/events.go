package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/spackmon/spackmon/pkg/errs"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// buildEventsPath is the Server-Sent Events stream of a build's changes, WatchBuild over HTTP.
const buildEventsPath = "/api/v1/builds/{build_id}/events/stream"

// Timing of the event stream: how soon a browser connects again after the stream broke,
// and how often an idle stream carries a comment, so that proxies keep it open.
const (
	eventsRetry     = 2 * time.Second
	eventsKeepAlive = 25 * time.Second
)

// serveBuildEvents streams a build's changes as Server-Sent Events: each with its revision
// as id, so that a browser's EventSource, connecting again, resumes with Last-Event-ID.
// ?after= resumes the same way for a client that cannot set the header.
func (g *Gateway) serveBuildEvents(w http.ResponseWriter, r *http.Request, params map[string]string) {
	id, err := strconv.ParseInt(params["build_id"], 10, 64)
	if err != nil || id <= 0 {
		g.handleError(r.Context(), g.mux, nil, w, r, errs.New(errs.BadRequest, "build_id must be a positive integer."))
		return
	}
	after, err := lastEventID(r)
	if err != nil {
		g.handleError(r.Context(), g.mux, nil, w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if auth := r.Header.Get("Authorization"); auth != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
	}
	stream, first, err := g.openWatch(ctx, id, after)
	if err != nil {
		g.handleError(r.Context(), g.mux, nil, w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	fmt.Fprintf(w, "retry: %d\n\n", eventsRetry.Milliseconds())
	if rc.Flush() != nil {
		return
	}
	changes := make(chan *ingestv1.BuildChange)
	go func() {
		defer close(changes)
		if first != nil {
			select {
			case changes <- first:
			case <-ctx.Done():
				return
			}
		}
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			select {
			case changes <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	keepAlive := time.NewTicker(eventsKeepAlive)
	defer keepAlive.Stop()
	for {
		var m *ingestv1.BuildChange
		select {
		case change, ok := <-changes:
			if !ok {
				return
			}
			m = change
		case <-g.stopping:
			return
		case <-keepAlive.C:
		}
		if sendEvent(rc, w, m) != nil {
			return
		}
	}
}

// sendEvent writes a change, or a keep-alive comment for nil. Each write gives the client
// its stall time to take it (stalls.bound), flush included: one that stops reading loses the
// stream, and the watcher's place it holds; it resumes from its last event.
func sendEvent(rc *http.ResponseController, w http.ResponseWriter, m *ingestv1.BuildChange) error {
	var err error
	if m == nil {
		_, err = fmt.Fprint(w, ": keep-alive\n\n")
	} else {
		err = writeChange(w, m)
	}
	if err != nil {
		return err
	}
	return rc.Flush()
}

// lastEventID is the revision the client saw last: Last-Event-ID, else ?after=, else 0.
func lastEventID(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || len(v) > 20 {
		return 0, errs.New(errs.BadRequest, "Last-Event-ID (or after) must be a revision: a number from 0.")
	}
	return n, nil
}

// writeChange writes one event: its type is the kind of change, "phase" or "status".
func writeChange(w http.ResponseWriter, m *ingestv1.BuildChange) error {
	// As the /api/v1 answers write messages: ids and counts are JSON numbers.
	data, err := json.Marshal(messageValue(m.ProtoReflect()))
	if err != nil {
		return err
	}
	kind := "status"
	if m.GetPhase() != nil {
		kind = "phase"
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", m.GetRevision(), kind, data)
	return err
}

// openWatch starts a watch and waits until the service has checked the build and
// registered the watch: its header says so. A watch refused ends without a header, and
// its first Recv gives the reason; a message there would be the first change.
func (g *Gateway) openWatch(ctx context.Context, id, after int64) (grpc.ServerStreamingClient[ingestv1.BuildChange], *ingestv1.BuildChange, error) {
	stream, err := g.watch.WatchBuild(ctx, &ingestv1.WatchBuildRequest{BuildId: id, AfterRevision: after})
	if err != nil {
		return nil, nil, err
	}
	md, err := stream.Header()
	if err != nil || md != nil {
		return stream, nil, err
	}
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		err = errs.New(errs.Unavailable, "The watch of build %d ended at once; try again.", id)
	}
	return stream, first, err
}

// endStreams ends every event stream, once.
func (g *Gateway) endStreams() {
	g.closeOnce.Do(func() { close(g.stopping) })
}
