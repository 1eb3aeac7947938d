package service

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/store"
)

// DeletedUserPrefix starts the names the builds of a deleted account are shown under
// (deleted-user-ID, given by the ingest service); no user may take one.
const DeletedUserPrefix = "deleted-user-"

// checkNewUserName refuses a name no user could sign in with: empty, too long, not UTF-8,
// with spaces or control characters, or with a colon (Basic credentials are "user:token",
// so a name with a colon could never sign in), and the name reserved for anonymous writes.
func checkNewUserName(name string) error {
	if name == authn.AnonymousUser {
		return errs.New(errs.BadRequest,
			"The name %s is reserved: it owns what is written while authentication is disabled.", name)
	}
	if strings.HasPrefix(name, DeletedUserPrefix) {
		return errs.New(errs.BadRequest,
			"Names starting with %s are reserved: they show the builds of deleted accounts.", DeletedUserPrefix)
	}
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

// checkUserName refuses a name that names no user because no user could have it: a look-up
// by a name longer than any is answered without asking the store.
func checkUserName(name string) error {
	if name == "" {
		return errs.New(errs.BadRequest, "A user name is required.")
	}
	if len(name) > store.MaxNameLength {
		return errs.New(errs.BadRequest, "A user name is at most %d bytes long.", store.MaxNameLength)
	}
	return nil
}
