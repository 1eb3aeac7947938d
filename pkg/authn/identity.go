// Package authn decides who is calling a service: it verifies realm tokens against the
// realm's JWKS (Verifier), admits or refuses each gRPC call by a per-method table (Guard),
// and carries the caller to the service in the context (Identity).
package authn

import (
	"context"
	"time"

	"google.golang.org/grpc"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/telemetry"
)

// AnonymousUser owns what is written while authentication is disabled.
const AnonymousUser = "anonymous"

// GatewayCaller is the caller of a Gateway method that showed the gateway's secret.
const GatewayCaller = "gateway"

// Identity is the authenticated caller.
type Identity struct {
	// Name is the user name, which a later user may take again.
	Name string
	// UserID is the realm's id of the user, never reused; zero for the anonymous user of
	// disabled auth and for tokens of an external realm that sets none.
	UserID int64
	Admin  bool
	// APITokenID is the API token the token was issued for; for a web session token, the
	// session's own id.
	APITokenID int64
	// WebSession is whether the token is a web session token.
	WebSession bool
	// ExpiresAt is when the token expires; zero when unknown.
	ExpiresAt time.Time
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	telemetry.SetUser(ctx, id.Name)
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the caller, if an interceptor established one.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Caller is the named caller the guard established for a write. A call that reached a
// service without one is a wiring mistake, refused as unauthenticated rather than trusted.
func Caller(ctx context.Context) (Identity, error) {
	id, ok := FromContext(ctx)
	if !ok || id.Name == "" {
		return Identity{}, errs.New(errs.Unauthenticated, "Authentication is required.")
	}
	return id, nil
}

type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }
