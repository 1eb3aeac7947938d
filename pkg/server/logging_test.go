package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
