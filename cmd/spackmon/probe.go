package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/spackmon/spackmon/pkg/server"
)

// probeTimeout bounds one probe: a health check answers at once or counts as failed.
const probeTimeout = 5 * time.Second

// errProbeUsage says how to call spackmon probe.
var errProbeUsage = errors.New("usage: spackmon probe http://HOST:PORT/PATH | grpc://HOST:PORT[/SERVICE]")

// runProbe asks a role whether it serves, the way an orchestrator would, for images with no
// shell or curl (a compose health check): an HTTP GET that must answer 2xx, or a
// grpc.health.v1 Check that must answer SERVING. It exits non-zero otherwise.
func runProbe(ctx context.Context, args []string) error {
	if len(args) != 1 || len(args[0]) > 2048 {
		return errProbeUsage
	}
	u, err := url.Parse(args[0])
	if err != nil || u.Host == "" {
		return errProbeUsage
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	switch u.Scheme {
	case "http", "https":
		return probeHTTP(ctx, u.String())
	case "grpc":
		return probeGRPC(ctx, u.Host, strings.Trim(u.Path, "/"))
	}
	return errProbeUsage
}

func probeHTTP(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("probe %s: %s", target, resp.Status)
	}
	return nil
}

func probeGRPC(ctx context.Context, addr, service string) error {
	conn, err := server.Dial(addr, 1<<20)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: service})
	if err != nil {
		return fmt.Errorf("probe %s %q: %w", addr, service, err)
	}
	if resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		return fmt.Errorf("probe %s %q: %s", addr, service, resp.GetStatus())
	}
	return nil
}
