package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/errs"
)

// A caller that hangs up is news at info level; a caller's deadline that passed is a
// warning, as it may mean the server is too slow.
func TestLogCallsEndedByTheCaller(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	late, stop := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer stop()
	// Over a connection the caller's reset usually ends the call before the server's own
	// timer: cancelled, with the deadline passed.
	reset, resetNow := context.WithDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	resetNow()
	time.Sleep(30 * time.Millisecond)
	for _, c := range []struct {
		ctx  context.Context
		want string
	}{
		{cancelled, `level=INFO msg="call ended by its caller"`},
		{late, `level=WARN msg="call ended by its caller"`},
		{reset, `level=WARN msg="call ended by its caller"`},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		handler := func(ctx context.Context, _ any) (any, error) {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		_, err := logFailures(log)(c.ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/x.Y/Z"}, handler)
		if code := status.Code(err); code != codes.Canceled && code != codes.DeadlineExceeded {
			t.Errorf("call error %v", err)
		}
		if !strings.Contains(buf.String(), c.want) {
			t.Errorf("logged %q, want %s", buf.String(), c.want)
		}
	}
}

// A streaming call's failure is logged with its cause, as a unary one's is; its caller
// hanging up only at debug level, and Unavailable at info level once the server stops
// (its watches end so).
func TestLogStreamFailures(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	outage := errs.WithCause(errs.Unavailable, errors.New("disk on fire"), "The database is unavailable.")
	for _, c := range []struct {
		ctx, serving context.Context
		err          error
		want         string
	}{
		{context.Background(), context.Background(), outage, `level=WARN msg="call failed: unavailable" method=/x.Y/S code=Unavailable error="The database is unavailable." cause="disk on fire"`},
		{context.Background(), cancelled, status.Error(codes.Unavailable, "the server is stopping"), `level=INFO msg="call failed: unavailable" method=/x.Y/S code=Unavailable error="the server is stopping"`},
		{context.Background(), context.Background(), status.Error(codes.Internal, "boom"), `level=ERROR msg="call failed" method=/x.Y/S code=Internal error=boom`},
		{cancelled, context.Background(), status.Error(codes.Canceled, "gone"), `level=DEBUG msg="call ended by its caller"`},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		handler := func(any, grpc.ServerStream) error { return c.err }
		err := logStreamFailures(log, c.serving)(nil, contextStream{ctx: c.ctx}, &grpc.StreamServerInfo{FullMethod: "/x.Y/S"}, handler)
		if err != c.err {
			t.Errorf("the call's error became %v", err)
		}
		if !strings.Contains(buf.String(), c.want) {
			t.Errorf("logged %q, want %s", buf.String(), c.want)
		}
	}
}

// contextStream is a server stream that has only a context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s contextStream) Context() context.Context { return s.ctx }
