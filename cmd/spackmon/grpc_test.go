package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/server"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// Internal tools call the ingest service directly and get the same rules as over HTTP.
func TestIngestOverGRPC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		conn, err := server.Dial(srv.GRPCAddr, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		client := ingestv1.NewIngestServiceClient(conn)
		specDoc := readTestdata(t, "specs", "singularity-3.6.4.json")

		// Without a bearer: the challenge comes in the trailer, as Www-Authenticate does.
		var trailer metadata.MD
		_, err = client.NewSpec(context.Background(), &ingestv1.NewSpecRequest{Spec: specDoc, SpackVersion: "0.16.0"}, grpc.Trailer(&trailer))
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("NewSpec without a token: %v", err)
		}
		c, err := authn.ParseChallenge(strings.Join(trailer.Get("www-authenticate"), ""))
		if err != nil || c.Realm != srv.URL+"/auth/token/" || c.Service != srv.URL || c.Scope != "build" {
			t.Errorf("challenge %v: %+v, %v", trailer, c, err)
		}
		_, err = client.NewSpec(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer not-a-jwt"),
			&ingestv1.NewSpecRequest{Spec: specDoc, SpackVersion: "0.16.0"}, grpc.Trailer(&trailer))
		if c, _ := authn.ParseChallenge(strings.Join(trailer.Get("www-authenticate"), "")); status.Code(err) != codes.Unauthenticated || c.Error != authn.InvalidToken {
			t.Errorf("NewSpec with a bad token: %v, challenge %v", err, trailer)
		}

		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+srv.bearer)
		spec, err := client.NewSpec(ctx, &ingestv1.NewSpecRequest{Spec: specDoc, SpackVersion: "0.16.0"})
		if err != nil {
			t.Fatal(err)
		}
		if !spec.GetCreated() || spec.GetSpec().GetFullHash() != "p64nmszwer36ly7pnch5fznni4cnmndg" {
			t.Errorf("NewSpec answered %v", spec)
		}
		build, err := client.NewBuild(ctx, &ingestv1.NewBuildRequest{FullHash: spec.GetSpec().GetFullHash(), SpackVersion: "0.16.0",
			Hostname: "h", KernelVersion: "k", HostOs: "o", HostTarget: "t", Platform: "linux", Tags: []string{" ci ", "CI", "nightly"}})
		if err != nil {
			t.Fatal(err)
		}
		log := readTestdata(t, "dummy-tar-spack", "spack-build-out.txt")
		if _, err := client.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: build.GetBuild().GetBuildId(),
			PhaseName: "build", Status: "SUCCESS", Output: log}); err != nil {
			t.Fatal(err)
		}
		// Reads are public: no token needed.
		got, err := client.GetBuild(context.Background(), &ingestv1.GetBuildRequest{Id: build.GetBuild().GetBuildId()})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.GetTags()) != 2 || len(got.GetPhases()) != 1 || got.GetPhases()[0].GetWarningCount() != 2 ||
			got.GetPhases()[0].GetErrorCount() != 0 || got.GetPhases()[0].GetOutputBytes() != int64(len(log)) {
			t.Errorf("GetBuild answered %v", got)
		}
		out, err := client.GetPhaseOutput(ctx, &ingestv1.GetPhaseOutputRequest{BuildId: got.GetId(), Name: "build"})
		if err != nil || !bytes.Equal(out.GetData(), log) {
			t.Errorf("GetPhaseOutput: %v, %d bytes of %d", err, len(out.GetData()), len(log))
		}
		lines, err := client.GetPhaseOutput(ctx, &ingestv1.GetPhaseOutputRequest{BuildId: got.GetId(), Name: "build", Unit: "lines", Offset: 331, Limit: 2})
		if err != nil || !bytes.HasPrefix(lines.GetData(), []byte("configure: WARNING: libacl")) || bytes.Count(lines.GetData(), []byte("\n")) != 2 {
			t.Errorf("lines 332-333: %v %q", err, lines.GetData())
		}
		events, err := client.ListBuildEvents(ctx, &ingestv1.ListBuildEventsRequest{BuildId: got.GetId(), Kind: "warning"})
		if err != nil || len(events.GetEvents()) != 2 || events.GetEvents()[0].GetLineNo() != 332 {
			t.Errorf("ListBuildEvents: %v %v", err, events)
		}

		_, err = client.UpdateBuildStatus(ctx, &ingestv1.UpdateBuildStatusRequest{BuildId: got.GetId(), Status: "DONE"})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument {
			t.Errorf("bad status: %v", err)
		} else if reason, _ := errs.FromStatus(st); reason != errs.BadRequest {
			t.Errorf("bad status carries reason %q", reason)
		}
		// Over gRPC an absent id is 0, which is missing; a negative one is invalid.
		for _, c := range []struct {
			id      int64
			message string
		}{{0, "Missing required build_id."}, {-1, "build_id must be a positive integer."}} {
			_, err = client.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: c.id, PhaseName: "build", Status: "SUCCESS"})
			if st := status.Convert(err); st.Code() != codes.InvalidArgument || st.Message() != c.message {
				t.Errorf("phase of build %d: %v, want %q", c.id, err, c.message)
			}
		}
		_, err = client.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: got.GetId(), PhaseName: "build", Status: "FINE"})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || st.Message() != "Invalid phase status. Choices are SUCCESS,ERROR" {
			t.Errorf("bad phase status: %v", err)
		}
		_, err = client.GetBuild(ctx, &ingestv1.GetBuildRequest{Id: 987654})
		if status.Code(err) != codes.NotFound {
			t.Errorf("unknown build: %v", err)
		}

		health, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
		if err != nil || health.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
			t.Errorf("health: %v %v", err, health)
		}
	})
}
