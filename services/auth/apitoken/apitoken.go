// Package apitoken makes and checks the API tokens users export as SPACKMON_TOKEN.
//
// A token reads smt_<prefix>_<secret>: the prefix is 12 hex digits (6 random bytes), public,
// and is how the store finds the token; the secret is 32 random bytes from crypto/rand in
// lower-case base32 (52 characters). Neither part contains an underscore, and the whole
// token is selected by a double click. Only the SHA-256 hash of the whole token is stored.
//
// A fast hash is the right one here: slow password hashes (bcrypt, scrypt, argon2) exist
// to make guessing low-entropy passwords expensive, but a secret of 256 random bits cannot
// be guessed however fast each guess is, so stretching would only cost CPU time on every
// sign-in and make the token endpoint easier to overload. Hashing the whole token rather
// than the secret alone binds the secret to its prefix.
package apitoken

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spackmon/spackmon/pkg/authn"
)

const (
	// Scheme starts every token; the guard knows tokens by it.
	Scheme = authn.APITokenScheme
	// PrefixLength is the length of the lookup prefix, in characters.
	PrefixLength = 12
	// SecretBytes is the entropy of the secret.
	SecretBytes = 32
)

var secretEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

const (
	// secretLength is the length of the encoded secret: 5 bits a character.
	secretLength = (SecretBytes*8 + 4) / 5
	// Length is the length of a whole token.
	Length = len(Scheme) + PrefixLength + 1 + secretLength
)

// ErrMalformed is what Parse answers for a string that is not a token. It never holds the
// string.
var ErrMalformed = errors.New("malformed API token")

// Token is an API token. Its String, GoString and LogValue leave the secret out, so that
// printing or logging a Token does not leak it; Reveal gives the whole token.
type Token struct {
	prefix string
	secret string
}

// New makes a token from crypto/rand.
func New() (Token, error) {
	var b [PrefixLength/2 + SecretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Token{}, fmt.Errorf("apitoken: %w", err)
	}
	return Token{
		prefix: hex.EncodeToString(b[:PrefixLength/2]),
		secret: secretEncoding.EncodeToString(b[PrefixLength/2:]),
	}, nil
}

// Parse splits a token into its prefix and secret. Surrounding white space (a trailing
// newline of a pasted token) is ignored; anything else that is not exactly a token is
// ErrMalformed.
func Parse(s string) (Token, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok || len(s) != Length || rest[PrefixLength] != '_' {
		return Token{}, ErrMalformed
	}
	prefix, secret := rest[:PrefixLength], rest[PrefixLength+1:]
	if !isHex(prefix) {
		return Token{}, ErrMalformed
	}
	// Decoding checks the alphabet; encoding again refuses a last character with any of
	// its unused low bits set, so each token has a single spelling.
	raw, err := secretEncoding.DecodeString(secret)
	if err != nil || len(raw) != SecretBytes || secretEncoding.EncodeToString(raw) != secret {
		return Token{}, ErrMalformed
	}
	return Token{prefix: prefix, secret: secret}, nil
}

func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Prefix is the public part the store looks the token up by.
func (t Token) Prefix() string { return t.prefix }

// Reveal is the whole token, to show its user once.
func (t Token) Reveal() string { return Scheme + t.prefix + "_" + t.secret }

// Hash is what is stored of the token: the SHA-256 hash of the whole token.
func (t Token) Hash() []byte {
	h := sha256.Sum256([]byte(t.Reveal()))
	return h[:]
}

// Verify reports whether hash is the token's hash, in time that does not depend on where
// the two differ.
func (t Token) Verify(hash []byte) bool {
	return subtle.ConstantTimeCompare(t.Hash(), hash) == 1
}

// IsZero reports whether t is the zero Token (as Parse and New return with an error).
func (t Token) IsZero() bool { return t == Token{} }

// String is the token without its secret.
func (t Token) String() string { return Scheme + t.prefix + "_[redacted]" }

// GoString is the token without its secret, for %#v.
func (t Token) GoString() string { return "apitoken.Token{" + t.String() + "}" }

// LogValue is the token without its secret, for log/slog.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }
