// Package store is the auth service's persistence: users and their API tokens. API tokens
// are kept only as a public lookup prefix and a hash of the whole token (see package
// apitoken); the store never sees a token in clear. Two implementations (postgres, sqlite)
// pass the one contract suite in storetest.
package store

import (
	"context"
	"time"
)

// Store is everything the auth service keeps. Every write is one transaction. Errors are
// *errs.Error values for what the caller got wrong (errs.NotFound for an unknown user or
// token, errs.BadRequest for a name or prefix that is taken or invalid, errs.Unavailable
// for a database that cannot be reached) and plain errors for failures of the store
// itself.
type Store interface {
	// CreateUser adds a user. A name that is taken is errs.BadRequest.
	CreateUser(ctx context.Context, u NewUser) (User, error)
	GetUser(ctx context.Context, name string) (User, error)
	// ListUsers returns every user, by name.
	ListUsers(ctx context.Context) ([]User, error)
	// SetDisabled disables or re-enables a user and returns it as it now is. A disabled
	// user keeps its tokens; the service refuses them.
	SetDisabled(ctx context.Context, name string, disabled bool) (User, error)
	// DeleteUser removes a user and every token of it.
	DeleteUser(ctx context.Context, name string) error

	// AddToken stores a new API token of the user. A prefix that is taken (by any token,
	// revoked ones included) is errs.BadRequest. Adding a session removes the user's
	// sessions that have expired.
	AddToken(ctx context.Context, user string, t NewToken) (Token, error)
	// ListTokens returns the user's tokens, revoked and expired ones included, oldest
	// first.
	ListTokens(ctx context.Context, user string) ([]Token, error)
	// FindToken returns the token with the given prefix and its user, whatever the state
	// of either: the caller checks the hash, Token.Active and User.Disabled, so that it
	// can tell why it refuses a token.
	FindToken(ctx context.Context, prefix string) (Token, User, error)
	// TouchToken records that the token was used now. The recorded time never goes back.
	TouchToken(ctx context.Context, id int64) error
	// RevokeToken revokes a token. Revoking it again keeps the first revocation time.
	RevokeToken(ctx context.Context, id int64) error
	// RevokeUserTokens revokes every token of the user not yet revoked and returns how
	// many it revoked.
	RevokeUserTokens(ctx context.Context, user string) (int, error)
	// RotateToken revokes every token of the user and adds t, in one transaction: either
	// both happen or neither does. Concurrent rotations of one user leave exactly one
	// active token (the last one's).
	RotateToken(ctx context.Context, user string, t NewToken) (Token, error)

	// ListRevocations returns the revocations made at or after since, in the order made. Disabling
	// and deleting a user and revoking an API token (rotation included) record them.
	ListRevocations(ctx context.Context, since time.Time) ([]Revocation, error)
	// PruneRevocations forgets the revocations made before before and returns how many.
	PruneRevocations(ctx context.Context, before time.Time) (int, error)

	// LoginIdentity returns the user an external identity is linked to, linking it first when
	// it is new, in one transaction: to the user of another identity with the same address
	// when both addresses are verified, else to a new user named by the first of names that
	// is free. created reports a new user. None free is errs.BadRequest.
	LoginIdentity(ctx context.Context, id NewIdentity, names []string) (u User, created bool, err error)
	// ListIdentities returns the identities linked to the user, oldest first.
	ListIdentities(ctx context.Context, userID int64) ([]Identity, error)

	Ping(ctx context.Context) error
	Close() error
}

// MaxNameLength is the longest user name, in bytes.
const MaxNameLength = 150

// NewUser asks for a user.
type NewUser struct {
	Name  string
	Admin bool
}

// User is a stored user.
type User struct {
	ID        int64
	Name      string
	Admin     bool
	Disabled  bool
	CreatedAt time.Time
}

// NewToken is an API token to store: the public prefix it is looked up by and the hash
// of the whole token (apitoken.Token.Hash).
type NewToken struct {
	Prefix string
	Hash   []byte
	// ExpiresAt is when the token stops working; zero for never.
	ExpiresAt time.Time
	// Session makes it a web session's row rather than an API token: rotating and revoking
	// a user's API tokens and listing them leave it out.
	Session bool
}

// NewIdentity is an external identity as its provider vouched for it.
type NewIdentity struct {
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
}

// Identity is an external identity linked to a user.
type Identity struct {
	UserID        int64
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
	CreatedAt     time.Time
}

// Token is a stored API token. Times that have not happened are zero.
type Token struct {
	ID         int64
	UserID     int64
	Prefix     string
	Hash       []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Revocation revokes the realm tokens issued for an API token (APITokenID set), or those of
// a user issued at or before At (APITokenID zero).
type Revocation struct {
	UserID     int64
	APITokenID int64
	At         time.Time
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Expired reports whether the token has an expiry time and now is at or past it.
func (t Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Active reports whether the token may be used at now: neither revoked nor expired.
func (t Token) Active(now time.Time) bool { return !t.Revoked() && !t.Expired(now) }
