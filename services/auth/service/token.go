package service

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"unicode"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/signing"
	"github.com/spackmon/spackmon/pkg/telemetry"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	"github.com/spackmon/spackmon/services/auth/apitoken"
	"github.com/spackmon/spackmon/services/auth/store"
)

// Longest service and scope a client may ask for, in bytes.
const (
	maxServiceLength = 512
	maxScopeLength   = 1024
)

// refusal is why credentials were refused: logged, never shown to the client, who only learns
// that they were wrong.
type refusal string

func (r refusal) Error() string { return string(r) }

// label is the reason's word in the metrics: one of a fixed set, since the reasons of
// credentials that cannot be read quote the parser.
func (r refusal) label() string {
	switch r {
	case "malformed API token", "unknown API token", "wrong API token", "API token of another user",
		"user disabled", "API token revoked", "API token expired":
		return strings.ReplaceAll(strings.ToLower(string(r)), " ", "_")
	}
	return "malformed_credentials"
}

// IssueToken checks the Basic credentials of the call and signs a realm token for them.
func (s *Server) IssueToken(ctx context.Context, req *authv1.IssueTokenRequest) (*authv1.IssueTokenResponse, error) {
	service, err := s.audience(req.GetService())
	if err != nil {
		return nil, err
	}
	scope := req.GetScope()
	if len(scope) > maxScopeLength {
		return nil, errs.New(errs.BadRequest, "The scope is longer than %d bytes.", maxScopeLength)
	}
	user, apiToken, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	addr := s.clientAddress(ctx)
	now := s.now()
	access := grant(user, scope)
	who := signing.Subject{Name: user.Name, UserID: user.ID, APITokenID: apiToken.ID}
	tok, claims, err := s.keys.Issue(s.cfg.Issuer, who, service, access, now)
	if err != nil {
		return nil, err
	}
	telemetry.TokenIssued()
	s.log.InfoContext(ctx, "token issued", "client", addr, "user", user.Name, "service", service, "jti", claims.ID)
	return &authv1.IssueTokenResponse{
		Token:       tok,
		AccessToken: tok,
		ExpiresIn:   int64(s.keys.TTL().Seconds()),
		IssuedAt:    timestamppb.New(claims.IssuedAt.Time),
	}, nil
}

// authenticate returns the user whose Basic credentials the call carries, and the API token
// they named, counting failures against the client's address and the name tried.
func (s *Server) authenticate(ctx context.Context) (store.User, store.Token, error) {
	addr := s.clientAddress(ctx)
	name, secret, parseErr := credentials(authorization(ctx))
	// No user has a longer name; the limiter keeps its keys small.
	claimed := name[:min(len(name), store.MaxNameLength)]
	settle, err := s.limiter.admit(ctx, addr, claimed, s.now)
	var limited *tooManyFailures
	if errors.As(err, &limited) {
		s.log.WarnContext(ctx, "token refused", "client", addr, "user", claimed, "reason", "too many failed attempts")
		telemetry.TokenRefused("rate_limited")
		return store.User{}, store.Token{}, errs.New(errs.RateLimited, "Too many failed attempts; try again in %d s.", int(limited.wait.Seconds())+1)
	}
	if err != nil {
		return store.User{}, store.Token{}, err
	}
	user, apiToken, err := s.checkCredentials(ctx, name, secret, parseErr)
	var r refusal
	settle(errors.As(err, &r))
	if err != nil {
		if !errors.As(err, &r) {
			return store.User{}, store.Token{}, err
		}
		s.log.WarnContext(ctx, "token refused", "client", addr, "user", claimed, "reason", string(r))
		telemetry.TokenRefused(r.label())
		return store.User{}, store.Token{}, errs.New(errs.Unauthenticated, "Invalid credentials: send Basic base64(user:api_token) with a valid API token.")
	}
	return user, apiToken, nil
}

// credentials reads the user name and API token of Basic credentials, or the API token
// alone of a Bearer one (CDash clients, which send nothing else; the token names its user),
// with an empty name.
func credentials(header string) (name, secret string, err error) {
	if tok, ok := authn.BearerToken(header); ok {
		return "", tok, nil
	}
	name, secret, err = authn.ParseBasic(header)
	if err == nil && name == "" {
		err = errors.New("empty user name")
	}
	return name, secret, err
}

// checkCredentials returns the user whose API token the Basic header carried, and that API
// token (parseErr is why it could not be read). Every refusal is a refusal error; other
// errors are failures of the store.
func (s *Server) checkCredentials(ctx context.Context, name, secret string, parseErr error) (store.User, store.Token, error) {
	refuse := func(why string) (store.User, store.Token, error) { return store.User{}, store.Token{}, refusal(why) }
	if parseErr != nil {
		return refuse(parseErr.Error())
	}
	tok, err := apitoken.Parse(secret)
	if err != nil {
		return refuse("malformed API token")
	}
	t, u, err := s.users.st.FindToken(ctx, tok.Prefix())
	switch {
	case errs.Is(err, errs.NotFound):
		return refuse("unknown API token")
	case err != nil:
		return store.User{}, store.Token{}, err
	case !tok.Verify(t.Hash):
		return refuse("wrong API token")
	case name != "" && u.Name != name:
		return refuse("API token of another user")
	case u.Disabled:
		return refuse("user disabled")
	case t.Revoked():
		return refuse("API token revoked")
	case t.Expired(s.now()):
		return refuse("API token expired")
	}
	if err := s.users.st.TouchToken(ctx, t.ID); err != nil {
		s.log.WarnContext(ctx, "recording token use failed", "user", u.Name, "error", err)
	}
	return u, t, nil
}

// grant is what the user gets of the scope asked for: build for everyone, admin for admins.
// Asking for more, or for unknown scopes, is not an error; it grants nothing more.
func grant(u store.User, scope string) []signing.Access {
	words := strings.FieldsFunc(scope, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(words) == 0 {
		words = []string{signing.ScopeBuild}
	}
	access := []signing.Access{}
	if slices.Contains(words, signing.ScopeBuild) {
		access = append(access, signing.BuildAccess())
	}
	if slices.Contains(words, signing.ScopeAdmin) && u.Admin {
		access = append(access, signing.AdminAccess())
	}
	return access
}

// audience is the service the token is for: the one asked for, else the realm's own.
func (s *Server) audience(asked string) (string, error) {
	if asked == "" {
		return s.cfg.Service, nil
	}
	if len(asked) > maxServiceLength || strings.ContainsFunc(asked, unicode.IsControl) {
		return "", errs.New(errs.BadRequest, "The service must be printable text of at most %d bytes.", maxServiceLength)
	}
	return asked, nil
}

func authorization(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// clientAddress is who the failure limit counts against: for the gateway, the address it saw
// (the last X-Forwarded-For entry, which it appends); for any other caller, the gRPC peer,
// whatever it claims to forward.
func (s *Server) clientAddress(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if fwd := md.Get("x-forwarded-for"); len(fwd) > 0 && authn.ShowsGatewaySecret(ctx, s.cfg.GatewaySecret) {
		hops := strings.Split(fwd[len(fwd)-1], ",")
		if last := strings.TrimSpace(hops[len(hops)-1]); last != "" {
			return last
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			return host
		}
		return p.Addr.String()
	}
	return "unknown"
}
