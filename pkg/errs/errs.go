// Package errs is the one table of domain errors: each reason fixes the gRPC code a service
// answers with and the HTTP status the gateway turns it into. Services return *Error values;
// nothing else decides a status.
package errs

import (
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsv1 "github.com/spackmon/spackmon/proto/spackmon/errors/v1"
)

// Domain is the ErrorInfo domain of every spackmon error.
const Domain = "spackmon.io"

// Reason names a domain error: the name of a value of the Reason enum declared in
// proto/spackmon/errors/v1/errors.proto, which is how gRPC clients learn them. The reasons
// below are made from the generated names, so that they cannot drift from the declaration.
type Reason string

var (
	BadRequest      = declared(errorsv1.Reason_BAD_REQUEST)
	BodyTooLarge    = declared(errorsv1.Reason_BODY_TOO_LARGE)
	SpecNotFound    = declared(errorsv1.Reason_SPEC_NOT_FOUND)
	NotFound        = declared(errorsv1.Reason_NOT_FOUND)
	NotOwner        = declared(errorsv1.Reason_NOT_OWNER)
	Unauthenticated = declared(errorsv1.Reason_UNAUTHENTICATED)
	Forbidden       = declared(errorsv1.Reason_FORBIDDEN)
	RateLimited     = declared(errorsv1.Reason_RATE_LIMITED)
	Unavailable     = declared(errorsv1.Reason_UNAVAILABLE)
	Internal        = declared(errorsv1.Reason_INTERNAL)
)

// declared is the reason a value of the declared enum names.
func declared(r errorsv1.Reason) Reason { return Reason(r.String()) }

type entry struct {
	code       codes.Code
	httpStatus int
}

var table = map[Reason]entry{
	BadRequest:      {codes.InvalidArgument, http.StatusBadRequest},
	BodyTooLarge:    {codes.ResourceExhausted, http.StatusRequestEntityTooLarge},
	SpecNotFound:    {codes.FailedPrecondition, http.StatusBadRequest},
	NotFound:        {codes.NotFound, http.StatusNotFound},
	NotOwner:        {codes.PermissionDenied, http.StatusForbidden},
	Unauthenticated: {codes.Unauthenticated, http.StatusUnauthorized},
	Forbidden:       {codes.PermissionDenied, http.StatusForbidden},
	RateLimited:     {codes.ResourceExhausted, http.StatusTooManyRequests},
	Unavailable:     {codes.Unavailable, http.StatusServiceUnavailable},
	Internal:        {codes.Internal, http.StatusInternalServerError},
}

// Error is a domain error with the message a client sees.
type Error struct {
	Reason  Reason
	Message string
	// Metadata travels in the ErrorInfo detail (for example the spec hash of SPEC_NOT_FOUND).
	Metadata map[string]string
	// Cause is the failure behind the error, for logs and errors.Is; clients see Message
	// only.
	Cause error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// GRPCStatus lets status.FromError and the gRPC server turn an *Error into its status.
func (e *Error) GRPCStatus() *status.Status {
	code := codes.Internal // a reason not in the table is no success
	if en, ok := table[e.Reason]; ok {
		code = en.code
	}
	st := status.New(code, e.Message)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: string(e.Reason), Domain: Domain, Metadata: e.Metadata}); err == nil {
		return d
	}
	return st
}

// New makes an error of the given reason.
func New(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Message: fmt.Sprintf(format, args...)}
}

// WithCause makes an error of the given reason whose cause is the failure behind it.
func WithCause(r Reason, cause error, format string, args ...any) *Error {
	e := New(r, format, args...)
	e.Cause = cause
	return e
}

// Is reports whether err is a domain error with reason r.
func Is(err error, r Reason) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == r
}

// FromStatus recovers the reason and metadata a gRPC status carries. Statuses that carry
// no spackmon ErrorInfo get "" as reason.
func FromStatus(st *status.Status) (Reason, map[string]string) {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == Domain {
			return Reason(info.Reason), info.Metadata
		}
	}
	return "", nil
}

// HTTPStatus is the HTTP status for a gRPC status: from the table when the status carries
// a reason, else from the gRPC code. A code that only a spackmon reason may turn into a
// status the client would act on (ResourceExhausted: gRPC's own "message larger than max"
// is no reason to slow down or to shrink a request) is 500 without one, as is any code
// not in the table: the answer is never 0.
func HTTPStatus(st *status.Status) int {
	if r, _ := FromStatus(st); r != "" {
		if e, ok := table[r]; ok {
			return e.httpStatus
		}
	}
	if s, ok := codeToHTTP[st.Code()]; ok {
		return s
	}
	return http.StatusInternalServerError
}

var codeToHTTP = map[codes.Code]int{
	codes.OK:                 http.StatusOK,
	codes.Canceled:           499,
	codes.Unknown:            http.StatusInternalServerError,
	codes.InvalidArgument:    http.StatusBadRequest,
	codes.DeadlineExceeded:   http.StatusGatewayTimeout,
	codes.NotFound:           http.StatusNotFound,
	codes.AlreadyExists:      http.StatusConflict,
	codes.PermissionDenied:   http.StatusForbidden,
	codes.Unauthenticated:    http.StatusUnauthorized,
	codes.ResourceExhausted:  http.StatusInternalServerError,
	codes.FailedPrecondition: http.StatusBadRequest,
	codes.Aborted:            http.StatusConflict,
	codes.OutOfRange:         http.StatusBadRequest,
	codes.Unimplemented:      http.StatusNotImplemented,
	codes.Internal:           http.StatusInternalServerError,
	codes.Unavailable:        http.StatusServiceUnavailable,
	codes.DataLoss:           http.StatusInternalServerError,
}
