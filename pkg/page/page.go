// Package page holds the paging rules every list call shares: how long a page is, and the
// opaque tokens that say where the next one starts. A store clamps with Size too, so that
// no caller of a store gets a page longer than MaxSize.
package page

import (
	"encoding/base64"
	"strconv"

	"github.com/spackmon/spackmon/pkg/errs"
)

// DefaultSize is the length of a page when none is asked for; MaxSize the longest page.
const (
	DefaultSize = 100
	MaxSize     = 1000
)

// Size turns a requested page size into one a store serves: DefaultSize for none (or a
// negative one), at most MaxSize.
func Size[N int | int32](n N) int {
	if n <= 0 {
		return DefaultSize
	}
	return int(min(int64(n), MaxSize))
}

// Token is the opaque token for a page that starts after the position text (a path, an id,
// or a position of several parts a service formats itself).
func Token(text string) string { return base64.RawURLEncoding.EncodeToString([]byte(text)) }

// After reads back the position a token holds ("" for the first page).
func After(token string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", Invalid()
	}
	return string(raw), nil
}

// IDToken is the token for a page that starts after the row with id lastID.
func IDToken(lastID int64) string { return Token(strconv.FormatInt(lastID, 10)) }

// AfterID reads back the id an IDToken holds: 0 for the first page (no token).
func AfterID(token string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	text, err := After(token)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil || id <= 0 {
		return 0, Invalid()
	}
	return id, nil
}

// Invalid is the error for a token that no page handed out.
func Invalid() error { return errs.New(errs.BadRequest, "Invalid page_token.") }
