// Package check holds what both auth store implementations answer the same way: the domain
// errors for what the caller got wrong. What may be stored is checked by the service; the
// stores leave to the schema's constraints only what protects the database itself.
package check

import (
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/store"
)

// UserExists is the error for a user name that is taken.
func UserExists(name string) error {
	return errs.New(errs.BadRequest, "User %s already exists.", name)
}

// UserNotFound is the error for an unknown user.
func UserNotFound(name string) error {
	return errs.New(errs.NotFound, "User %s does not exist.", name)
}

// PrefixTaken is the error for a token prefix already in use.
func PrefixTaken() error {
	return errs.New(errs.BadRequest, "A token with this prefix already exists.")
}

// TokenNotFound is the error for an unknown token id.
func TokenNotFound(id int64) error {
	return errs.New(errs.NotFound, "Token %d does not exist.", id)
}

// NoSuchPrefix is the error for a look-up of a prefix no token has. The prefix is not
// repeated: it comes from a client's credentials.
func NoSuchPrefix() error {
	return errs.New(errs.NotFound, "No token has this prefix.")
}

// Limits of what a token row holds.
const (
	MaxPrefixLength = 64
	MaxHashLength   = 64
)

// NewToken refuses a token the schema cannot hold. It is checked here and not only by the
// schema's constraints because a missing hash reaches SQLite as NULL, which it refuses as a
// failure of the store rather than as the caller's mistake.
func NewToken(t store.NewToken) error {
	switch {
	case t.Prefix == "" || len(t.Prefix) > MaxPrefixLength:
		return errs.New(errs.BadRequest, "A token prefix is 1 to %d bytes long.", MaxPrefixLength)
	case len(t.Hash) == 0 || len(t.Hash) > MaxHashLength:
		return errs.New(errs.BadRequest, "A token hash is 1 to %d bytes long.", MaxHashLength)
	}
	return nil
}

// NoFreeName is the error for a new identity's user when every name tried is taken.
func NoFreeName() error {
	return errs.New(errs.BadRequest, "No free user name was found for this identity.")
}
