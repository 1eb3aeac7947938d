package authn

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Challenge is the Www-Authenticate value of a refused call (PROTOCOL.md §3.1).
type Challenge struct {
	// Realm is the absolute URL tokens are fetched from.
	Realm string
	// Service is the audience tokens must be issued for.
	Service string
	// Scope is what the call needs ("build").
	Scope string
	// Error is "", "invalid_token" or "insufficient_scope".
	Error string
}

// The error values of RFC 6750 §3.1 a challenge carries.
const (
	InvalidToken      = "invalid_token"
	InsufficientScope = "insufficient_scope"
)

// String renders the challenge. Spack reads it with the regex `([a-zA-z]+)="(.+?)"`, so
// every value is quoted and none may hold a quote; Validate checks that.
func (c Challenge) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, `Bearer realm="%s",service="%s",scope="%s"`, c.Realm, c.Service, c.Scope)
	if c.Error != "" {
		fmt.Fprintf(&b, `,error="%s"`, c.Error)
	}
	return b.String()
}

// Validate checks that the challenge can be rendered so that Spack parses it back: an
// absolute http(s) realm, and values that are non-empty printable text without quotes or
// backslashes.
func (c Challenge) Validate() error {
	for _, f := range []struct{ name, value string }{{"realm", c.Realm}, {"service", c.Service}, {"scope", c.Scope}} {
		if f.value == "" || len(f.value) > 2048 || strings.ContainsFunc(f.value, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '"' || r == '\\' }) {
			return fmt.Errorf("challenge %s %q: want printable text without quotes or backslashes", f.name, f.value)
		}
	}
	u, err := url.Parse(c.Realm)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("challenge realm %q: want an absolute http(s) URL", c.Realm)
	}
	return nil
}

// challengeParam is Spack's own pattern (its A-z range included): clients that read the
// challenge this way must get back what was sent.
var challengeParam = regexp.MustCompile(`([a-zA-z]+)="(.+?)"`)

// ParseChallenge reads a Www-Authenticate value the way Spack does: every key="value" pair
// anywhere in it. Realm and service are required.
func ParseChallenge(h string) (Challenge, error) {
	var c Challenge
	for _, m := range challengeParam.FindAllStringSubmatch(h, -1) {
		switch m[1] {
		case "realm":
			c.Realm = m[2]
		case "service":
			c.Service = m[2]
		case "scope":
			c.Scope = m[2]
		case "error":
			c.Error = m[2]
		}
	}
	if c.Realm == "" || c.Service == "" {
		return Challenge{}, errors.New("challenge without realm or service")
	}
	return c, nil
}
