// Package check holds what both auth store implementations do the same way: the
// validation of what they are asked to store and the domain errors they answer with.
package check

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/store"
)

// Limits of what a token row holds.
const (
	MaxPrefixLength = 64
	MaxHashLength   = 64
)

// UserName refuses a name that could not be used: empty, too long, not UTF-8, with
// spaces or control characters, or with a colon (Basic credentials are "user:token", so
// a name with a colon could never sign in).
func UserName(name string) error {
	switch {
	case name == "":
		return errs.New(errs.BadRequest, "A user name is required.")
	case len(name) > store.MaxNameLength:
		return errs.New(errs.BadRequest, "A user name is at most %d bytes long.", store.MaxNameLength)
	case !utf8.ValidString(name):
		return errs.New(errs.BadRequest, "A user name must be valid UTF-8.")
	case strings.ContainsRune(name, ':'):
		return errs.New(errs.BadRequest, "A user name cannot contain a colon.")
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return errs.New(errs.BadRequest, "A user name cannot contain spaces or control characters.")
	}
	return nil
}

// NewToken refuses a token without a usable prefix or hash.
func NewToken(t store.NewToken) error {
	switch {
	case t.Prefix == "" || len(t.Prefix) > MaxPrefixLength:
		return errs.New(errs.BadRequest, "A token prefix is 1 to %d bytes long.", MaxPrefixLength)
	case !utf8.ValidString(t.Prefix) || strings.IndexFunc(t.Prefix, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return errs.New(errs.BadRequest, "A token prefix cannot contain spaces or control characters.")
	case len(t.Hash) == 0 || len(t.Hash) > MaxHashLength:
		return errs.New(errs.BadRequest, "A token hash is 1 to %d bytes long.", MaxHashLength)
	}
	return nil
}

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
