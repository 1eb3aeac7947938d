// Package authn carries who is calling a service. Until token verification lands, the
// Anonymous interceptors give every call the built-in anonymous identity, so services
// already read the caller from the context and only the interceptors change with auth.
package authn

import (
	"context"

	"google.golang.org/grpc"
)

// AnonymousUser owns what is written while authentication is disabled.
const AnonymousUser = "anonymous"

// Identity is the authenticated caller.
type Identity struct {
	Name  string
	Admin bool
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the caller, if an interceptor established one.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// AnonymousUnary gives every unary call the anonymous identity.
func AnonymousUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(WithIdentity(ctx, Identity{Name: AnonymousUser}), req)
	}
}

// AnonymousStream gives every streaming call the anonymous identity.
func AnonymousStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return h(srv, &identityStream{ServerStream: ss, ctx: WithIdentity(ss.Context(), Identity{Name: AnonymousUser})})
	}
}

type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }
