package service

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/errs"
)

// Ingest refusing a token this service accepted is a passing disagreement, answered 503
// without a challenge; its other answers reach the caller as they are.
func TestFromIngest(t *testing.T) {
	for _, c := range []codes.Code{codes.Unauthenticated, codes.PermissionDenied} {
		if err := fromIngest(status.Error(c, "no")); !errs.Is(err, errs.Unavailable) {
			t.Errorf("%v: %v", c, err)
		}
	}
	notFound := status.Error(codes.NotFound, "Build 9 does not exist.")
	if err := fromIngest(notFound); err != notFound {
		t.Errorf("NotFound became %v", err)
	}
	if fromIngest(nil) != nil {
		t.Error("nil became an error")
	}
}
