package authn

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/signing"
)

// Requirement is what a method asks of its caller.
type Requirement int

const (
	// Public methods never look at a token (token issue, JWKS, health).
	Public Requirement = iota + 1
	// Read methods need a valid token only when reads are private.
	Read
	// Build methods need a token with the build scope: every write of the protocol.
	Build
	// Admin methods need a token with the admin scope, whether auth is disabled or not.
	Admin
	// Gateway methods need the gateway's secret (GatewaySecretHeader) or an admin token,
	// whether auth is disabled or not: only the gateway's login pages call them.
	Gateway
	// Session methods need a web session token (signing.AudienceWeb), whether auth is
	// disabled or not: they act on the user it names.
	Session
	// Submit methods take a token with the build scope when the call carries one; a call
	// without one runs with no caller, and the method decides whether it may (CDash
	// projects open to anonymous submissions). With auth disabled the caller is anonymous.
	Submit
)

// MessageNoToken is the answer to a call that needs a token and has none.
const MessageNoToken = "Authentication is required: fetch a token from the realm named in the challenge."

// APITokenScheme starts every spackmon API token (services/auth/apitoken.Scheme), which the
// realm exchanges for the tokens calls carry.
const APITokenScheme = "smt_"

// GatewaySecretHeader is the metadata key the gateway shows its secret to the auth service
// in; with it, the auth service believes the x-forwarded-for the gateway sets.
const GatewaySecretHeader = "x-spackmon-gateway-secret"

// ChallengeHeader is the metadata key (a trailer) that carries the challenge of a refused
// call; the gateway sends it on as the Www-Authenticate header.
const ChallengeHeader = "www-authenticate"

// TokenVerifier checks a bearer token. *Verifier is the one used outside tests.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*Principal, error)
}

// Guard is the gRPC interceptor pair every service that verifies tokens installs. Methods
// lists every method of the service with its requirement; a method missing from it is
// refused, so a new method cannot be open by accident. The gRPC health and reflection
// services are public.
type Guard struct {
	Methods  map[string]Requirement
	Verifier TokenVerifier
	// Challenge names the realm and service of the challenge; its scope and error are set
	// per refusal.
	Challenge Challenge
	// Disabled makes every call but the Admin ones anonymous (SPACKMON_DISABLE_AUTH).
	Disabled bool
	// PrivateReads makes Read methods need a token (SPACKMON_PRIVATE_READS).
	PrivateReads bool
	// GatewaySecret, when set, admits a call to a Gateway method that shows it.
	GatewaySecret string
	Log           *slog.Logger
}

// CheckServices reports the methods of the registered services that the table misses, so
// that a role refuses to start rather than close a method to everyone.
func (g *Guard) CheckServices(services map[string]grpc.ServiceInfo) error {
	var missing []string
	for name, info := range services {
		if strings.HasPrefix(name, "grpc.health.") || strings.HasPrefix(name, "grpc.reflection.") {
			continue
		}
		for _, m := range info.Methods {
			if _, ok := g.Methods["/"+name+"/"+m.Name]; !ok {
				missing = append(missing, "/"+name+"/"+m.Name)
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("authn: no requirement for %s", strings.Join(missing, ", "))
	}
	return nil
}

// Unary is the unary interceptor.
func (g *Guard) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ctx, challenge, err := g.admit(ctx, info.FullMethod)
		if err != nil {
			if challenge != "" {
				_ = grpc.SetTrailer(ctx, metadata.Pairs(ChallengeHeader, challenge))
			}
			return nil, err
		}
		return h(ctx, req)
	}
}

// Stream is the stream interceptor.
func (g *Guard) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		ctx, challenge, err := g.admit(ss.Context(), info.FullMethod)
		if err != nil {
			if challenge != "" {
				ss.SetTrailer(metadata.Pairs(ChallengeHeader, challenge))
			}
			return err
		}
		return h(srv, &identityStream{ServerStream: ss, ctx: ctx})
	}
}

// admit decides a call: the context to run it with, or an error and the challenge to send.
func (g *Guard) admit(ctx context.Context, method string) (context.Context, string, error) {
	need, ok := g.Methods[method]
	if !ok {
		if !strings.HasPrefix(method, "/grpc.health.v1.") && !strings.HasPrefix(method, "/grpc.reflection.") {
			return ctx, "", errs.New(errs.Forbidden, "Method %s is not open to callers.", method)
		}
		need = Public
	}
	if need == Public || (need == Read && !g.PrivateReads) {
		return ctx, "", nil
	}
	if need == Gateway && ShowsGatewaySecret(ctx, g.GatewaySecret) {
		return WithIdentity(ctx, Identity{Name: GatewayCaller}), "", nil
	}
	if g.Disabled && need != Admin && need != Gateway && need != Session {
		return WithIdentity(ctx, Identity{Name: AnonymousUser}), "", nil
	}
	raw, ok := bearer(ctx)
	if !ok && need == Submit {
		return ctx, "", nil
	}
	if need == Submit {
		need = Build
	}
	if !ok {
		return ctx, g.challenge(need, ""), errs.New(errs.Unauthenticated, MessageNoToken)
	}
	p, err := g.Verifier.Verify(ctx, raw)
	if errors.Is(err, ErrInvalidToken) {
		g.log().DebugContext(ctx, "token refused", "method", method, "reason", err)
		msg := "The token is invalid or has expired: fetch a new one from the realm."
		if strings.HasPrefix(raw, APITokenScheme) {
			msg = "This is an API token: the realm named in the challenge exchanges it (Basic auth, with its user's name) for the token to send here."
		}
		return ctx, g.challenge(need, InvalidToken), errs.New(errs.Unauthenticated, "%s", msg)
	}
	if err != nil {
		return ctx, "", errs.WithCause(errs.Unavailable, err, "Tokens cannot be verified right now.")
	}
	if need == Session && !p.Claims.IsWebSession() {
		return ctx, "", errs.New(errs.Forbidden, "This needs a web session: log in on the web pages.")
	}
	if (need == Build && !p.CanBuild()) || ((need == Admin || need == Gateway) && !p.Claims.CanAdmin()) {
		scope := scopeOf(need)
		return ctx, g.challenge(need, InsufficientScope), errs.New(errs.Forbidden, "The token does not grant the %s scope.", scope)
	}
	return WithIdentity(ctx, p.Identity()), "", nil
}

func (g *Guard) challenge(need Requirement, errorCode string) string {
	c := g.Challenge
	c.Scope, c.Error = scopeOf(need), errorCode
	return c.String()
}

func scopeOf(need Requirement) string {
	if need == Admin || need == Gateway {
		return signing.ScopeAdmin
	}
	return signing.ScopeBuild
}

func (g *Guard) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// bearer returns the bearer token of the call's authorization metadata.
func bearer(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := BearerToken(v); ok {
			return tok, true
		}
	}
	return "", false
}

// ShowsGatewaySecret reports whether the call shows secret, once, in GatewaySecretHeader. An
// empty secret is never shown.
func ShowsGatewaySecret(ctx context.Context, secret string) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	shown := md.Get(GatewaySecretHeader)
	return secret != "" && len(shown) == 1 && subtle.ConstantTimeCompare([]byte(shown[0]), []byte(secret)) == 1
}
