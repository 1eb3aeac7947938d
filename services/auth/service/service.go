// Package service is the auth service: the realm that exchanges API tokens for signed realm
// tokens, publishes the keys to verify them, and administers users.
package service

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/signing"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	"github.com/spackmon/spackmon/services/auth/store"
)

// Config is what the realm says about itself in the tokens it issues.
type Config struct {
	// Issuer is the iss of every token: the realm URL.
	Issuer string
	// Service is the audience of tokens for which the client names none.
	Service string
	// GatewaySecret, when set, is what a caller must show (authn.GatewaySecretHeader) for
	// its x-forwarded-for to count as the client's address.
	GatewaySecret string
	// WebSessionTTL is the lifetime of a web session token; zero for DefaultWebSessionTTL.
	WebSessionTTL time.Duration
	// Clock is the realm's time: when tokens are issued and expire, the failure limit,
	// which revocations are still published. Nil is the real clock; a test drives its own.
	Clock func() time.Time
}

// Server implements authv1.AuthServiceServer.
type Server struct {
	authv1.UnimplementedAuthServiceServer
	users   *Users
	keys    *signing.KeySet
	cfg     Config
	log     *slog.Logger
	limiter *failureLimiter
	now     func() time.Time
	// pruned is when revocations were last pruned (unix nanoseconds).
	pruned atomic.Int64
}

// New returns the service on st, signing with keys.
func New(st store.Store, keys *signing.KeySet, cfg Config, log *slog.Logger) *Server {
	if cfg.WebSessionTTL <= 0 {
		cfg.WebSessionTTL = DefaultWebSessionTTL
	}
	now := cfg.Clock
	if now == nil {
		now = time.Now
	}
	return &Server{users: NewUsers(st), keys: keys, cfg: cfg, log: log, limiter: newFailureLimiter(), now: now}
}

// Methods is what each method asks of its caller, for authn.Guard.
var Methods = map[string]authn.Requirement{
	authv1.AuthService_IssueToken_FullMethodName:        authn.Public,
	authv1.AuthService_GetJWKS_FullMethodName:           authn.Public,
	authv1.AuthService_GetRevocations_FullMethodName:    authn.Public,
	authv1.AuthService_CreateUser_FullMethodName:        authn.Admin,
	authv1.AuthService_ListUsers_FullMethodName:         authn.Admin,
	authv1.AuthService_RotateToken_FullMethodName:       authn.Admin,
	authv1.AuthService_SetUserDisabled_FullMethodName:   authn.Admin,
	authv1.AuthService_DeleteUser_FullMethodName:        authn.Admin,
	authv1.AuthService_LoginWithIdentity_FullMethodName: authn.Gateway,
	authv1.AuthService_LoginWithAPIToken_FullMethodName: authn.Public,
	authv1.AuthService_GetSession_FullMethodName:        authn.Session,
	authv1.AuthService_EndSession_FullMethodName:        authn.Session,
	authv1.AuthService_ListIdentities_FullMethodName:    authn.Session,
	authv1.AuthService_RotateOwnToken_FullMethodName:    authn.Session,
	authv1.AuthService_DeleteOwnAccount_FullMethodName:  authn.Session,
}

// GetJWKS returns the keys that sign, or signed, tokens still valid.
func (s *Server) GetJWKS(context.Context, *authv1.GetJWKSRequest) (*authv1.JWKS, error) {
	set := s.keys.JWKS(s.now())
	out := &authv1.JWKS{Keys: make([]*authv1.JWK, len(set.Keys))}
	for i, k := range set.Keys {
		out.Keys[i] = &authv1.JWK{Kty: k.Kty, Crv: k.Crv, X: k.X, Y: k.Y, Kid: k.Kid, Alg: k.Alg, Use: k.Use}
	}
	return out, nil
}

func userMessage(u store.User) *authv1.User {
	return &authv1.User{Name: u.Name, Admin: u.Admin, Disabled: u.Disabled, CreatedAt: timestamppb.New(u.CreatedAt)}
}
