package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/proctest"
	"github.com/spackmon/spackmon/pkg/server"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// compileErrorLog is a phase log with one compiler error in it.
const compileErrorLog = "checking for gcc... gcc\nmain.c:3:1: error: expected ';' before '}' token\nmake: *** [all] Error 1\n"

// startSecondServe runs another spackmon serve on the database of srv, as a second replica:
// its own pool, its own watchers, and its own LISTEN connection.
func startSecondServe(t *testing.T, srv *testServer) string {
	t.Helper()
	return runTestServe(t, testConfig(srv.db), slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))).GRPCAddr
}

// grpcClients dials addr for the ingest and watch services.
func grpcClients(t testing.TB, addr string) (ingestv1.IngestServiceClient, ingestv1.BuildWatchServiceClient) {
	t.Helper()
	conn, err := server.Dial(addr, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ingestv1.NewIngestServiceClient(conn), ingestv1.NewBuildWatchServiceClient(conn)
}

// newWatchedBuild makes a build of the singularity spec through client.
func newWatchedBuild(t testing.TB, ctx context.Context, client ingestv1.IngestServiceClient) int64 {
	t.Helper()
	return newBuildOnHost(t, ctx, client, "h")
}

// newBuildOnHost makes a build of the singularity spec on host: another host, another build.
func newBuildOnHost(t testing.TB, ctx context.Context, client ingestv1.IngestServiceClient, host string) int64 {
	t.Helper()
	spec, err := client.NewSpec(ctx, &ingestv1.NewSpecRequest{Spec: readTestdata(t, "specs", "singularity-3.6.4.json"), SpackVersion: "0.16.0"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := client.NewBuild(ctx, &ingestv1.NewBuildRequest{FullHash: spec.GetSpec().GetFullHash(), SpackVersion: "0.16.0",
		Hostname: host, KernelVersion: "k", HostOs: "o", HostTarget: "t", Platform: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	return b.GetBuild().GetBuildId()
}

// recv takes the next change of a watch; the test's deadline bounds the wait.
func recv(t testing.TB, w grpc.ServerStreamingClient[ingestv1.BuildChange]) *ingestv1.BuildChange {
	t.Helper()
	m, err := w.Recv()
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	return m
}

// checkWatch writes through writer and watches through watcher: each phase and status
// change arrives as it is stored, in revision order, and a watch resumed after a revision
// starts with the change after it.
func checkWatch(t *testing.T, bearer string, writer ingestv1.IngestServiceClient, watcher ingestv1.BuildWatchServiceClient) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	auth := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
	id := newWatchedBuild(t, auth, writer)

	w, err := watcher.WatchBuild(ctx, &ingestv1.WatchBuildRequest{BuildId: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Header(); err != nil {
		t.Fatal(err) // the watch is registered once its header came
	}
	if _, err := writer.UpdatePhase(auth, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: "configure", Status: "SUCCESS", Output: []byte("checking for gcc... gcc\n")}); err != nil {
		t.Fatal(err)
	}
	first := recv(t, w)
	if first.GetPhase().GetPhase().GetName() != "configure" || first.GetRevision() <= 0 || len(first.GetPhase().GetErrors()) != 0 {
		t.Fatalf("first change: %v", first)
	}
	if _, err := writer.UpdatePhase(auth, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: "build", Status: "ERROR", Output: []byte(compileErrorLog)}); err != nil {
		t.Fatal(err)
	}
	second := recv(t, w)
	errs := second.GetPhase().GetErrors()
	if second.GetPhase().GetPhase().GetName() != "build" || second.GetPhase().GetPhase().GetStatus() != "ERROR" ||
		second.GetRevision() <= first.GetRevision() || len(errs) != 2 || errs[0].GetLineNo() != 2 || errs[1].GetLineNo() != 3 {
		t.Fatalf("second change: %v", second)
	}
	if _, err := writer.UpdateBuildStatus(auth, &ingestv1.UpdateBuildStatusRequest{BuildId: id, Status: "FAILED"}); err != nil {
		t.Fatal(err)
	}
	third := recv(t, w)
	if third.GetStatus().GetStatus() != "FAILED" || third.GetRevision() <= second.GetRevision() {
		t.Fatalf("third change: %v", third)
	}

	// Resumed after the first change: the two after it, in order, and nothing of the first.
	resumed, err := watcher.WatchBuild(ctx, &ingestv1.WatchBuildRequest{BuildId: id, AfterRevision: first.GetRevision()})
	if err != nil {
		t.Fatal(err)
	}
	if m := recv(t, resumed); m.GetRevision() != second.GetRevision() || m.GetPhase().GetPhase().GetName() != "build" {
		t.Errorf("resumed watch began with %v", m)
	}
	if m := recv(t, resumed); m.GetRevision() != third.GetRevision() || m.GetStatus().GetStatus() != "FAILED" {
		t.Errorf("resumed watch went on with %v", m)
	}

	// An unknown build and a negative revision are refused.
	for _, req := range []*ingestv1.WatchBuildRequest{{BuildId: id + 1000}, {BuildId: id, AfterRevision: -1}} {
		bad, err := watcher.WatchBuild(ctx, req)
		if err == nil {
			_, err = bad.Recv()
		}
		if c := status.Code(err); c != codes.NotFound && c != codes.InvalidArgument {
			t.Errorf("WatchBuild(%v): %v", req, err)
		}
	}
}

// A build written through one replica is watched on another: PostgreSQL's NOTIFY wakes the
// second replica's watchers.
func TestWatchBuildAcrossReplicas(t *testing.T) {
	srv := startServe(t, backends[1].database(t), nil)
	otherAddr := startSecondServe(t, srv)
	writer, _ := grpcClients(t, srv.GRPCAddr)
	_, watcher := grpcClients(t, otherAddr)
	checkWatch(t, srv.bearer, writer, watcher)
}

// On SQLite there is one process: its own writes wake its watchers.
func TestWatchBuildSQLite(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	writer, watcher := grpcClients(t, srv.GRPCAddr)
	checkWatch(t, srv.bearer, writer, watcher)
}

// The caps hold: a watcher past the per-build cap is refused, and one leaving frees its place.
func TestWatchBuildCaps(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.Watch = Watch{WatchersPerProcess: 10, WatchersPerBuild: 1} })
	writer, watcher := grpcClients(t, srv.GRPCAddr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id := newWatchedBuild(t, metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+srv.bearer), writer)
	firstCtx, stopFirst := context.WithCancel(ctx)
	first, err := watcher.WatchBuild(firstCtx, &ingestv1.WatchBuildRequest{BuildId: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Header(); err != nil {
		t.Fatal(err)
	}
	second, err := watcher.WatchBuild(ctx, &ingestv1.WatchBuildRequest{BuildId: id})
	if err == nil {
		_, err = second.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a second watcher of the build: %v", err)
	}
	stopFirst()
	// The first watcher's place is freed when its stream ends on the server.
	for {
		again, err := watcher.WatchBuild(ctx, &ingestv1.WatchBuildRequest{BuildId: id})
		if err == nil {
			if _, err = again.Header(); err == nil {
				return
			}
		}
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("a watcher after the first left: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkWatchBuild times a phase stored through one server until its watcher has it,
// against the store alone (UpdatePhase with no watcher): on PostgreSQL the watcher is on a
// second replica, woken by NOTIFY.
func BenchmarkWatchBuild(b *testing.B) {
	for _, be := range backends {
		srv := startServe(b, be.database(b), nil)
		watchAddr := srv.GRPCAddr
		if be.name == "postgres" {
			watchAddr = runTestServe(b, testConfig(srv.db), slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))).GRPCAddr
		}
		writer, _ := grpcClients(b, srv.GRPCAddr)
		_, watcher := grpcClients(b, watchAddr)
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+srv.bearer)
		phase := func(b *testing.B, id int64, i int) {
			if _, err := writer.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: fmt.Sprint("p", i%50), Status: "SUCCESS", Output: []byte(compileErrorLog)}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(be.name+"/store-only", func(b *testing.B) {
			id := newWatchedBuild(b, ctx, writer)
			for i := 0; b.Loop(); i++ {
				phase(b, id, i)
			}
		})
		b.Run(be.name+"/stored-and-watched", func(b *testing.B) {
			id := newBuildOnHost(b, ctx, writer, "watched")
			w, err := watcher.WatchBuild(ctx, &ingestv1.WatchBuildRequest{BuildId: id})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.Header(); err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				phase(b, id, i)
				recv(b, w)
			}
		})
	}
}

// A stopping server ends its build watches at once, as Unavailable: the watcher then
// watches again elsewhere, and the stop does not wait out its grace for it and then cut
// whatever else was still running.
func TestWatchBuildEndsOnStop(t *testing.T) {
	p := startServeProcess(t, proctest.Build(t), "SPACKMON_DATA_DIR="+t.TempDir(), "SPACKMON_SHUTDOWN_TIMEOUT=120")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+p.bearer)
	writer, watcher := grpcClients(t, p.sockets.Addr("grpc"))
	id := newWatchedBuild(t, ctx, writer)
	w, err := watcher.WatchBuild(ctx, &ingestv1.WatchBuildRequest{BuildId: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Header(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- p.proc.Terminate(time.Minute) }()
	_, err = w.Recv()
	if st, _ := status.FromError(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "stopping") {
		t.Errorf("the watch ended with %v, want Unavailable saying the server is stopping", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
}
