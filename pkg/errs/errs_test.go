package errs

import (
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   *status.Status
		want int
	}{
		{"reason", New(NotOwner, "no").GRPCStatus(), http.StatusForbidden},
		{"body too large", New(BodyTooLarge, "big").GRPCStatus(), http.StatusRequestEntityTooLarge},
		{"spec not found", New(SpecNotFound, "who").GRPCStatus(), http.StatusBadRequest},
		{"unavailable", New(Unavailable, "down").GRPCStatus(), http.StatusServiceUnavailable},
		{"unknown reason falls back to the code", (&Error{Reason: "NOPE", Message: "x"}).GRPCStatus(), http.StatusInternalServerError},
		{"code without reason", status.New(codes.NotFound, "x"), http.StatusNotFound},
		{"unavailable without reason", status.New(codes.Unavailable, "x"), http.StatusServiceUnavailable},
		{"resource exhausted without reason", status.New(codes.ResourceExhausted,
			"grpc: trying to send message larger than max (385000000 vs. 4194304)"), http.StatusInternalServerError},
		{"unknown", status.New(codes.Unknown, "x"), http.StatusInternalServerError},
		{"a code out of range", status.New(codes.Code(99), "x"), http.StatusInternalServerError},
	} {
		if got := HTTPStatus(tc.st); got != tc.want {
			t.Errorf("%s: HTTPStatus(%v) = %d, want %d", tc.name, tc.st, got, tc.want)
		}
	}
	for c := range codes.Code(20) {
		if got := HTTPStatus(status.New(c, "x")); got == 0 {
			t.Errorf("HTTPStatus(%v) = 0", c)
		}
	}
}
