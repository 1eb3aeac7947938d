package authn

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxCredentialsLength bounds an Authorization header this package parses, in bytes: far more
// than a user name and an API token or a realm token need.
const MaxCredentialsLength = 8 << 10

// Reasons ParseBasic refuses a header. They name what is wrong and never echo the secret.
var (
	ErrNoCredentials        = errors.New("no Basic credentials")
	ErrMalformedCredentials = errors.New("malformed Basic credentials")
)

// ParseBasic reads `Basic base64(user:secret)` (scheme case-insensitive). The user is what
// precedes the first colon and may not be empty; the secret is the rest.
func ParseBasic(header string) (user, secret string, err error) {
	payload, ok := cutScheme(header, "Basic")
	if !ok {
		return "", "", ErrNoCredentials
	}
	if len(header) > MaxCredentialsLength {
		return "", "", ErrMalformedCredentials
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		// Some clients leave the padding off.
		if raw, err = base64.RawStdEncoding.DecodeString(payload); err != nil {
			return "", "", ErrMalformedCredentials
		}
	}
	decoded := string(raw)
	if !utf8.ValidString(decoded) || strings.ContainsFunc(decoded, isControl) {
		return "", "", ErrMalformedCredentials
	}
	user, secret, ok = strings.Cut(decoded, ":")
	if !ok || user == "" || secret == "" {
		return "", "", ErrMalformedCredentials
	}
	return user, secret, nil
}

// BearerToken returns the token of `Bearer <token>` (scheme case-insensitive), if header is
// one.
func BearerToken(header string) (string, bool) {
	tok, ok := cutScheme(header, "Bearer")
	if !ok || tok == "" || len(header) > MaxCredentialsLength {
		return "", false
	}
	return tok, true
}

// cutScheme returns what follows "<scheme> " in header, trimmed of spaces.
func cutScheme(header, scheme string) (string, bool) {
	header = strings.TrimSpace(header)
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) || header[len(scheme)] != ' ' {
		return "", false
	}
	return strings.TrimSpace(header[len(scheme)+1:]), true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
