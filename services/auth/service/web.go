package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/signing"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	"github.com/spackmon/spackmon/services/auth/apitoken"
	"github.com/spackmon/spackmon/services/auth/store"
)

// DefaultWebSessionTTL is how long a web login lasts unless configured.
const DefaultWebSessionTTL = 8 * time.Hour

// Limits of what a provider may say about an identity, in bytes.
const (
	maxProviderLength      = 512
	maxSubjectLength       = 512
	maxEmailLength         = 320
	maxPreferredNameLength = 512
	// maxBaseNameLength leaves room for the suffix of a variant within store.MaxNameLength.
	maxBaseNameLength = 100
)

// LoginWithIdentity finds or creates the user of an identity the gateway checked with its
// provider and issues a web session for it.
func (s *Server) LoginWithIdentity(ctx context.Context, req *authv1.LoginWithIdentityRequest) (*authv1.WebSession, error) {
	id := store.NewIdentity{Provider: req.GetProvider(), Subject: req.GetSubject(), Email: req.GetEmail(), EmailVerified: req.GetEmailVerified()}
	if err := checkIdentity(id, req.GetPreferredName()); err != nil {
		return nil, err
	}
	names, err := candidateNames(req.GetPreferredName(), id.Email)
	if err != nil {
		return nil, err
	}
	user, created, err := s.users.st.LoginIdentity(ctx, id, names)
	if err != nil {
		return nil, err
	}
	if user.Disabled {
		s.log.WarnContext(ctx, "web login refused", "user", user.Name, "provider", id.Provider, "reason", "user disabled")
		return nil, errs.New(errs.Forbidden, "User %s is disabled.", user.Name)
	}
	if created {
		s.audit(ctx, "user created", user.Name, "provider", id.Provider)
	}
	out, err := s.startSession(ctx, user, "provider", id.Provider)
	if err != nil {
		return nil, err
	}
	out.Created = created
	return out, nil
}

// LoginWithAPIToken issues a web session for the call's Basic credentials.
func (s *Server) LoginWithAPIToken(ctx context.Context, _ *authv1.LoginWithAPITokenRequest) (*authv1.WebSession, error) {
	user, _, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, user, "provider", "api-token")
}

// startSession records a session for the user and signs its token. The session's row has
// the hash of a secret no one keeps: it only gives the token an id to revoke it by.
func (s *Server) startSession(ctx context.Context, u store.User, args ...any) (*authv1.WebSession, error) {
	placeholder, err := apitoken.New()
	if err != nil {
		return nil, err
	}
	now := s.now()
	expires := now.Add(s.cfg.WebSessionTTL)
	row, err := s.users.st.AddToken(ctx, u.Name, store.NewToken{Prefix: placeholder.Prefix(), Hash: placeholder.Hash(), ExpiresAt: expires, Session: true})
	if err != nil {
		return nil, err
	}
	who := signing.Subject{Name: u.Name, UserID: u.ID, APITokenID: row.ID}
	tok, claims, err := s.keys.IssueWebSession(s.cfg.Issuer, who, s.cfg.Service, now, s.cfg.WebSessionTTL)
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "web session started", append([]any{"user", u.Name, "session", row.ID, "jti", claims.ID}, args...)...)
	return &authv1.WebSession{Token: tok, ExpiresAt: timestamppb.New(claims.ExpiresAt.Time), User: userMessage(u)}, nil
}

// GetSession returns the user of the web session.
func (s *Server) GetSession(ctx context.Context, _ *authv1.GetSessionRequest) (*authv1.Session, error) {
	u, id, err := s.sessionUser(ctx)
	if err != nil {
		return nil, err
	}
	out := &authv1.Session{User: userMessage(u)}
	if !id.ExpiresAt.IsZero() {
		out.ExpiresAt = timestamppb.New(id.ExpiresAt)
	}
	return out, nil
}

// EndSession revokes the web session: every service refuses its token once it has fetched
// the revocations (within seconds).
func (s *Server) EndSession(ctx context.Context, _ *authv1.EndSessionRequest) (*authv1.EndSessionResponse, error) {
	id, err := authn.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if id.APITokenID == 0 {
		return nil, errs.New(errs.BadRequest, "This token names no session to end.")
	}
	if err := s.users.st.RevokeToken(ctx, id.APITokenID); err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	s.log.InfoContext(ctx, "web session ended", "user", id.Name, "session", id.APITokenID)
	return &authv1.EndSessionResponse{}, nil
}

// ListIdentities lists the identities linked to the session's user.
func (s *Server) ListIdentities(ctx context.Context, _ *authv1.ListIdentitiesRequest) (*authv1.ListIdentitiesResponse, error) {
	u, _, err := s.sessionUser(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := s.users.st.ListIdentities(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := &authv1.ListIdentitiesResponse{Identities: make([]*authv1.Identity, len(ids))}
	for i, id := range ids {
		out.Identities[i] = &authv1.Identity{Provider: id.Provider, Subject: id.Subject, Email: id.Email,
			EmailVerified: id.EmailVerified, CreatedAt: timestamppb.New(id.CreatedAt)}
	}
	return out, nil
}

// RotateOwnToken replaces the session user's API tokens with a new one.
func (s *Server) RotateOwnToken(ctx context.Context, _ *authv1.RotateOwnTokenRequest) (*authv1.RotateTokenResponse, error) {
	u, _, err := s.sessionUser(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := s.users.Rotate(ctx, u.Name)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "API token rotated", u.Name)
	return &authv1.RotateTokenResponse{ApiToken: tok.Reveal()}, nil
}

// DeleteOwnAccount deletes the session's user once the request repeats its name.
func (s *Server) DeleteOwnAccount(ctx context.Context, req *authv1.DeleteOwnAccountRequest) (*authv1.DeleteOwnAccountResponse, error) {
	u, _, err := s.sessionUser(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetConfirmName() != u.Name {
		return nil, errs.New(errs.BadRequest, "Type your user name to confirm the deletion.")
	}
	if err := s.users.Delete(ctx, u.Name); err != nil {
		return nil, err
	}
	s.audit(ctx, "user deleted", u.Name)
	return &authv1.DeleteOwnAccountResponse{}, nil
}

// sessionUser is the user the web session names, as it is now: a session of a user since
// deleted (even if the name was taken again) or disabled is over.
func (s *Server) sessionUser(ctx context.Context) (store.User, authn.Identity, error) {
	id, err := authn.Caller(ctx)
	if err != nil {
		return store.User{}, id, err
	}
	u, err := s.users.st.GetUser(ctx, id.Name)
	switch {
	case errs.Is(err, errs.NotFound), err == nil && (u.ID != id.UserID || u.Disabled):
		return store.User{}, id, errs.New(errs.Unauthenticated, "This session has ended: log in again.")
	case err != nil:
		return store.User{}, id, err
	}
	return u, id, nil
}

func checkIdentity(id store.NewIdentity, preferred string) error {
	for _, f := range []struct {
		what, value string
		max         int
		required    bool
	}{
		{"provider", id.Provider, maxProviderLength, true},
		{"subject", id.Subject, maxSubjectLength, true},
		{"e-mail", id.Email, maxEmailLength, false},
		{"preferred name", preferred, maxPreferredNameLength, false},
	} {
		switch {
		case f.required && f.value == "":
			return errs.New(errs.BadRequest, "An identity's %s is required.", f.what)
		case len(f.value) > f.max:
			return errs.New(errs.BadRequest, "An identity's %s is at most %d bytes long.", f.what, f.max)
		case !printable(f.value):
			return errs.New(errs.BadRequest, "An identity's %s must be printable UTF-8 text.", f.what)
		}
	}
	return nil
}

func printable(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s && !strings.ContainsFunc(s, unicode.IsControl)
}

// candidateNames are the names a new user of an identity may get, in order: the provider's
// preferred name (else the e-mail's local part, else "user") made a valid user name, then
// numbered variants, then one with a random suffix.
func candidateNames(preferred, email string) ([]string, error) {
	if preferred == "" {
		preferred, _, _ = strings.Cut(email, "@")
	}
	base := strings.Map(func(r rune) rune {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)), r == '-', r == '_', r == '.':
			return r
		}
		return -1
	}, preferred)
	base = strings.Trim(base, ".-_")
	if len(base) > maxBaseNameLength {
		base = base[:maxBaseNameLength]
	}
	if base == "" || checkNewUserName(base) != nil {
		base = "user"
	}
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return nil, err
	}
	all := []string{base}
	for i := 2; i <= 9; i++ {
		all = append(all, fmt.Sprintf("%s-%d", base, i))
	}
	all = append(all, base+"-"+hex.EncodeToString(suffix[:]))
	names := all[:0]
	for _, n := range all {
		if checkNewUserName(n) == nil && n != authn.GatewayCaller {
			names = append(names, n)
		}
	}
	return names, nil
}
