package signing

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Leeway is the clock skew verifiers allow on exp and nbf. A key set keeps a retired key
// published this much longer than the last expiry of its tokens.
const Leeway = 60 * time.Second

// DefaultTTL is the token lifetime when SPACKMON_TOKEN_TTL is not set: the original
// server's. Spack fetches a new token whenever one is refused, so a long install outlives
// many.
const DefaultTTL = 600 * time.Second

// The resource types, names and actions of realm tokens: "build" is the Spack flow's; "admin"
// is user administration, granted only to admin users who ask for it.
const (
	TypeBuild   = "build"
	ActionBuild = "build"
	TypeAdmin   = "admin"
	ActionAdmin = "admin"
	AnyName     = "*"
)

// Scopes a client may ask the realm for.
const (
	ScopeBuild = "build"
	ScopeAdmin = "admin"
)

// Access is one grant of a token, docker-registry style: actions on resources of a type
// whose name matches (AnyName matches every name).
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// BuildAccess is the grant the "build" scope gives.
func BuildAccess() Access {
	return Access{Type: TypeBuild, Name: AnyName, Actions: []string{ActionBuild}}
}

// AdminAccess is the grant the "admin" scope gives.
func AdminAccess() Access {
	return Access{Type: TypeAdmin, Name: AnyName, Actions: []string{ActionAdmin}}
}

// Claims are the claims of a realm token (PROTOCOL.md §3.4).
type Claims struct {
	jwt.RegisteredClaims
	Access []Access `json:"access"`
	// UserID is the realm's id of the user, which is never given to another user as the
	// name (sub) may be. Zero in tokens of realms that do not set it.
	UserID int64 `json:"user_id,omitempty"`
	// APITokenID is the id of the API token the token was issued for: revoking that API
	// token revokes the token.
	APITokenID int64 `json:"api_token_id,omitempty"`
}

// Subject is whom a token is issued to.
type Subject struct {
	Name       string
	UserID     int64
	APITokenID int64
}

// UnmarshalJSON refuses times written as strings: RFC 7519 makes exp, nbf and iat JSON
// numbers, and the jwt library would read "exp":"9999999999" as a time.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var times struct {
		Exp json.RawMessage `json:"exp"`
		Nbf json.RawMessage `json:"nbf"`
		Iat json.RawMessage `json:"iat"`
	}
	if err := json.Unmarshal(b, &times); err != nil {
		return err
	}
	for name, v := range map[string]json.RawMessage{"exp": times.Exp, "nbf": times.Nbf, "iat": times.Iat} {
		if v != nil && !bytes.Equal(v, []byte("null")) && (len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9'))) {
			return fmt.Errorf("claim %s is not a number", name)
		}
	}
	type plain Claims
	return json.Unmarshal(b, (*plain)(c))
}

// Allows reports whether the token grants action on the resource typ/name. A grant named
// AnyName covers every name; asking for AnyName needs such a grant.
func (c *Claims) Allows(typ, name, action string) bool {
	if c == nil {
		return false
	}
	for _, a := range c.Access {
		if a.Type == typ && (a.Name == AnyName || a.Name == name) && slices.Contains(a.Actions, action) {
			return true
		}
	}
	return false
}

// CanBuild reports whether the token carries the "build" scope.
func (c *Claims) CanBuild() bool { return c.Allows(TypeBuild, AnyName, ActionBuild) }

// AudienceWeb is the second audience of a web session token, beside the realm's service: the
// services accept such a token wherever any valid token does (private reads), and only the
// methods of the web pages' self-service ask for it.
const AudienceWeb = "web"

// IsWebSession reports whether the token is a web session token.
func (c *Claims) IsWebSession() bool { return slices.Contains(c.Audience, AudienceWeb) }

// CanAdmin reports whether the token carries the "admin" scope.
func (c *Claims) CanAdmin() bool { return c.Allows(TypeAdmin, AnyName, ActionAdmin) }

// NewClaims returns the claims of a token for subject (the username) issued now by issuer for
// audience (the service), valid for ttl, with a random jti.
func NewClaims(issuer, subject, audience string, access []Access, now time.Time, ttl time.Duration) (*Claims, error) {
	jti, err := randomID()
	if err != nil {
		return nil, err
	}
	now = now.Truncate(time.Second)
	return &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Access: access,
	}, nil
}

func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("signing: random jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Sign issues a JWT for claims with this key, its kid in the header. The claims need exp,
// sub, iss and aud: verifiers refuse tokens without them.
func (k *Key) Sign(c *Claims) (string, error) {
	if err := checkClaims(c); err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(k.method, c)
	t.Header["kid"] = k.KID()
	s, err := t.SignedString(k.signer)
	if err != nil {
		return "", fmt.Errorf("signing: sign token: %w", err)
	}
	return s, nil
}

func checkClaims(c *Claims) error {
	switch {
	case c == nil:
		return errors.New("signing: no claims")
	case c.ExpiresAt == nil:
		return errors.New("signing: claims without exp")
	case c.Subject == "":
		return errors.New("signing: claims without sub")
	case c.Issuer == "":
		return errors.New("signing: claims without iss")
	case len(c.Audience) == 0:
		return errors.New("signing: claims without aud")
	}
	return nil
}
