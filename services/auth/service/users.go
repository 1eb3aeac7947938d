package service

import (
	"context"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	"github.com/spackmon/spackmon/services/auth/apitoken"
	"github.com/spackmon/spackmon/services/auth/store"
)

// Users administers users and their API tokens. The gRPC methods and the spackmon user
// commands both use it, so that a token is made and stored one way only.
type Users struct {
	st store.Store
}

// NewUsers returns the administration of the users in st.
func NewUsers(st store.Store) *Users { return &Users{st: st} }

// Add creates a user with a first API token and returns the token, which is shown this once.
func (u *Users) Add(ctx context.Context, name string, admin bool) (store.User, apitoken.Token, error) {
	if err := checkNewUserName(name); err != nil {
		return store.User{}, apitoken.Token{}, err
	}
	tok, err := apitoken.New()
	if err != nil {
		return store.User{}, apitoken.Token{}, err
	}
	user, err := u.st.CreateUser(ctx, store.NewUser{Name: name, Admin: admin})
	if err != nil {
		return store.User{}, apitoken.Token{}, err
	}
	if _, err := u.st.AddToken(ctx, name, store.NewToken{Prefix: tok.Prefix(), Hash: tok.Hash()}); err != nil {
		return store.User{}, apitoken.Token{}, err
	}
	return user, tok, nil
}

// Rotate revokes every API token of the user and returns a new one.
func (u *Users) Rotate(ctx context.Context, name string) (apitoken.Token, error) {
	if err := checkUserName(name); err != nil {
		return apitoken.Token{}, err
	}
	tok, err := apitoken.New()
	if err != nil {
		return apitoken.Token{}, err
	}
	if _, err := u.st.RotateToken(ctx, name, store.NewToken{Prefix: tok.Prefix(), Hash: tok.Hash()}); err != nil {
		return apitoken.Token{}, err
	}
	return tok, nil
}

// List returns every user, by name.
func (u *Users) List(ctx context.Context) ([]store.User, error) { return u.st.ListUsers(ctx) }

// SetDisabled disables or re-enables a user; a disabled user's tokens are refused.
func (u *Users) SetDisabled(ctx context.Context, name string, disabled bool) (store.User, error) {
	if err := checkUserName(name); err != nil {
		return store.User{}, err
	}
	return u.st.SetDisabled(ctx, name, disabled)
}

// Delete removes a user and its tokens.
func (u *Users) Delete(ctx context.Context, name string) error {
	if err := checkUserName(name); err != nil {
		return err
	}
	return u.st.DeleteUser(ctx, name)
}

// CreateUser creates a user and returns its first API token.
func (s *Server) CreateUser(ctx context.Context, req *authv1.CreateUserRequest) (*authv1.CreateUserResponse, error) {
	if err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	user, tok, err := s.users.Add(ctx, req.GetName(), req.GetAdmin())
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "user created", user.Name)
	return &authv1.CreateUserResponse{User: userMessage(user), ApiToken: tok.Reveal()}, nil
}

// ListUsers lists every user.
func (s *Server) ListUsers(ctx context.Context, _ *authv1.ListUsersRequest) (*authv1.ListUsersResponse, error) {
	if err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	users, err := s.users.List(ctx)
	if err != nil {
		return nil, err
	}
	out := &authv1.ListUsersResponse{Users: make([]*authv1.User, len(users))}
	for i, u := range users {
		out.Users[i] = userMessage(u)
	}
	return out, nil
}

// RotateToken replaces the user's API tokens with a new one.
func (s *Server) RotateToken(ctx context.Context, req *authv1.RotateTokenRequest) (*authv1.RotateTokenResponse, error) {
	if err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	tok, err := s.users.Rotate(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "API token rotated", req.GetName())
	return &authv1.RotateTokenResponse{ApiToken: tok.Reveal()}, nil
}

// SetUserDisabled disables or re-enables a user.
func (s *Server) SetUserDisabled(ctx context.Context, req *authv1.SetUserDisabledRequest) (*authv1.User, error) {
	if err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	u, err := s.users.SetDisabled(ctx, req.GetName(), req.GetDisabled())
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "user disabled set", u.Name, "disabled", u.Disabled)
	return userMessage(u), nil
}

// DeleteUser removes a user.
func (s *Server) DeleteUser(ctx context.Context, req *authv1.DeleteUserRequest) (*authv1.DeleteUserResponse, error) {
	if err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := s.users.Delete(ctx, req.GetName()); err != nil {
		return nil, err
	}
	s.audit(ctx, "user deleted", req.GetName())
	return &authv1.DeleteUserResponse{}, nil
}

// requireAdmin checks, beyond the token's admin scope, that the caller is still an enabled
// admin: a token outlives a demotion, a disable or a delete by up to its lifetime.
func (s *Server) requireAdmin(ctx context.Context) error {
	id, ok := authn.FromContext(ctx)
	if !ok {
		return errs.New(errs.Unauthenticated, "User administration needs an admin token.")
	}
	u, err := s.users.st.GetUser(ctx, id.Name)
	switch {
	case errs.Is(err, errs.NotFound), err == nil && (!u.Admin || u.Disabled):
		return errs.New(errs.Forbidden, "User administration needs an enabled admin user; %s is not one.", id.Name)
	}
	return err
}

func (s *Server) audit(ctx context.Context, what, user string, args ...any) {
	by := "unknown"
	if id, ok := authn.FromContext(ctx); ok {
		by = id.Name
	}
	s.log.InfoContext(ctx, what, append([]any{"user", user, "by", by}, args...)...)
}
