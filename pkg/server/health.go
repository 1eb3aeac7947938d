package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/telemetry"
)

const (
	// checkInterval is how often the checks run: a database that goes away is reported
	// within about this long.
	checkInterval = time.Second
	// checkTimeout bounds one check. It is generous because a check waits for a database
	// connection like any request: a pool that is merely busy must not read as down.
	checkTimeout = 5 * time.Second
)

// LivenessService is the health service that serves for as long as the process does,
// whatever its checks say: an orchestrator's liveness probe asks it, so that a database
// outage (which every check sees) makes the services unready but restarts none of them.
const LivenessService = "liveness"

// health answers Check and Watch from checks run in the background, never on the caller's
// time: a health call under load is as fast as when idle, and a client that watches hears
// of a change as soon as a check sees it.
type health struct {
	grpc_health_v1.UnimplementedHealthServer
	checks map[string]Check
	log    *slog.Logger
	// done ends every Watch, so that a graceful stop does not wait for watchers forever.
	done <-chan struct{}

	mu sync.Mutex
	// serving is each service's last result; "" is all of them together.
	serving map[string]bool
	// changed is closed, and replaced, whenever serving changes.
	changed chan struct{}
}

// newHealth runs the checks once, so that the first answer is a real one, then every
// checkInterval until ctx ends.
func newHealth(ctx context.Context, checks map[string]Check, log *slog.Logger) *health {
	h := &health{checks: checks, log: log, done: ctx.Done(), changed: make(chan struct{})}
	h.update(h.runChecks(ctx))
	go func() {
		t := time.NewTicker(checkInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			results := h.runChecks(ctx)
			if ctx.Err() != nil {
				// Checks cut short by the stop say nothing about the services.
				return
			}
			h.update(results)
		}
	}()
	return h
}

// runChecks runs every check at once and returns each one's error.
func (h *health) runChecks(ctx context.Context) map[string]error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	type result struct {
		service string
		err     error
	}
	results := make(chan result, len(h.checks))
	for service, check := range h.checks {
		go func() { results <- result{service, check(ctx)} }()
	}
	errs := make(map[string]error, len(h.checks))
	for range h.checks {
		r := <-results
		errs[r.service] = r.err
	}
	return errs
}

// update records the checks' results, wakes the watchers when a status changed, and logs
// each service whose outcome changed, with the cause of a failure (for example that the
// database does not exist).
func (h *health) update(results map[string]error) {
	serving := map[string]bool{"": true, LivenessService: true}
	for service, err := range results {
		telemetry.DatabaseUp(service, err == nil)
		serving[service] = err == nil
		serving[""] = serving[""] && err == nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	changed := false
	for service, now := range serving {
		was, known := h.serving[service]
		if known && was == now {
			continue
		}
		changed = true
		switch {
		case h.log == nil || service == "":
		case !now:
			h.log.Warn("health check failed: not serving", "service", service, "error", results[service])
		case known:
			h.log.Info("health check passes again: serving", "service", service)
		}
	}
	if !changed {
		return
	}
	h.serving = serving
	close(h.changed)
	h.changed = make(chan struct{})
}

// status is the service's status and a channel closed at the next change.
func (h *health) status(service string) (grpc_health_v1.HealthCheckResponse_ServingStatus, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ok, known := h.serving[service]
	switch {
	case known && h.stopping():
		// Readiness goes first when the server stops, before it refuses calls.
		return grpc_health_v1.HealthCheckResponse_NOT_SERVING, h.changed
	case !known:
		return grpc_health_v1.HealthCheckResponse_SERVICE_UNKNOWN, h.changed
	case ok:
		return grpc_health_v1.HealthCheckResponse_SERVING, h.changed
	}
	return grpc_health_v1.HealthCheckResponse_NOT_SERVING, h.changed
}

func (h *health) Check(_ context.Context, req *grpc_health_v1.HealthCheckRequest) (*grpc_health_v1.HealthCheckResponse, error) {
	st, _ := h.status(req.GetService())
	if st == grpc_health_v1.HealthCheckResponse_SERVICE_UNKNOWN {
		return nil, status.Errorf(codes.NotFound, "unknown service %q", req.GetService())
	}
	return &grpc_health_v1.HealthCheckResponse{Status: st}, nil
}

// Watch sends the service's status, then each change, until the caller leaves or the server
// stops; then it sends NOT_SERVING, so the watcher knows before the connection goes.
func (h *health) Watch(req *grpc_health_v1.HealthCheckRequest, stream grpc_health_v1.Health_WatchServer) error {
	last := grpc_health_v1.HealthCheckResponse_ServingStatus(-1)
	for {
		st, changed := h.status(req.GetService())
		if st != last {
			if err := stream.Send(&grpc_health_v1.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case <-h.done:
			_ = stream.Send(&grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_NOT_SERVING})
			return status.Error(codes.Unavailable, "the server is stopping")
		}
	}
}

// stopping reports whether the server has been told to stop.
func (h *health) stopping() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}
