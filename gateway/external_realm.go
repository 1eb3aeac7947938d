package gateway

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// externalRealm stands for the auth service when the deployment has none, because the
// realm that issues tokens is elsewhere: every call to it is refused, and /auth/token/ and
// the logins answer so instead of waiting for a service that will never come.
type externalRealm struct{}

var errExternalRealm = status.Error(codes.Unimplemented,
	"This server has no realm of its own: tokens, users and logins are managed by the realm named in its challenge.")

func (externalRealm) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return errExternalRealm
}

func (externalRealm) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, errExternalRealm
}
