package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/errs"
)

// logFailures logs what a client is never told: the cause behind a call that failed by no
// fault of the caller's (a database that does not exist, a constraint, a bug), and that a
// caller gave up on a call (its write may or may not have been made). A refused call is
// logged too, at info level, so that an operator sees why a client's writes fail; the
// routine refusals (a call without a token, which the auth dance starts with, and a look-up
// of what is not there) only at debug level.
func logFailures(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		logFailure(ctx, log, info.FullMethod, err, levels{callerEnded: slog.LevelInfo, unavailable: slog.LevelWarn})
		return resp, err
	}
}

// logStreamFailures is logFailures for streaming calls, which end as a matter of course
// when their caller leaves (a watcher, a reader hanging up; a streamed write so ended
// stores nothing), logged at debug level, and as Unavailable once this server stops
// (health and build watches: serving ends), logged at info level.
func logStreamFailures(log *slog.Logger, serving context.Context) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		at := levels{callerEnded: slog.LevelDebug, unavailable: slog.LevelWarn}
		if serving.Err() != nil {
			at.unavailable = slog.LevelInfo
		}
		logFailure(ss.Context(), log, info.FullMethod, err, at)
		return err
	}
}

// levels are the levels of the failures that may be routine for a kind of call.
type levels struct {
	callerEnded, unavailable slog.Level
}

// logFailure logs a call's failure; one its caller ended as a warning when the caller's
// deadline passed.
func logFailure(ctx context.Context, log *slog.Logger, method string, err error, at levels) {
	if err == nil || log == nil {
		return
	}
	st := status.Convert(err)
	attrs := []any{"method", method, "code", st.Code().String(), "error", st.Message()}
	var e *errs.Error
	if errors.As(err, &e) && e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	switch {
	case ctx.Err() != nil:
		// A caller that hangs up (a Ctrl-C of spack, a stopping process) is no fault here;
		// a caller's deadline that passed may mean this server is too slow. The context
		// usually ends as cancelled even then: the caller's reset arrives first.
		level := at.callerEnded
		if deadlinePassed(ctx) {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "call ended by its caller", append(attrs, "reason", context.Cause(ctx).Error())...)
	case st.Code() == codes.Unavailable:
		log.Log(ctx, at.unavailable, "call failed: unavailable", attrs...)
	case serverFault(st.Code()):
		log.ErrorContext(ctx, "call failed", attrs...)
	case st.Code() == codes.Unauthenticated || st.Code() == codes.NotFound:
		log.DebugContext(ctx, "call refused", attrs...)
	default:
		log.InfoContext(ctx, "call refused", attrs...)
	}
}

func serverFault(c codes.Code) bool {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.DeadlineExceeded, codes.Unimplemented:
		return true
	}
	return false
}

// deadlinePassed says whether ctx had a deadline that has passed.
func deadlinePassed(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
