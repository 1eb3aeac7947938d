package authn_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/authn"
)

func TestParseBasic(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		header, user, secret string
		err                  error
	}{
		{enc("alice:smt_x"), "alice", "smt_x", nil},
		{"basic " + base64.StdEncoding.EncodeToString([]byte("alice:a:b")), "alice", "a:b", nil},
		{"BASIC " + base64.RawStdEncoding.EncodeToString([]byte("alice:tok")), "alice", "tok", nil},
		{"", "", "", authn.ErrNoCredentials},
		{"Bearer abc", "", "", authn.ErrNoCredentials},
		{"Basicabc", "", "", authn.ErrNoCredentials},
		{"Basic !!!", "", "", authn.ErrMalformedCredentials},
		{enc("alicetok"), "", "", authn.ErrMalformedCredentials},
		{enc(":tok"), "", "", authn.ErrMalformedCredentials},
		{enc("alice:"), "", "", authn.ErrMalformedCredentials},
		{enc("al\x00ice:tok"), "", "", authn.ErrMalformedCredentials},
		{enc("alice:\xff"), "", "", authn.ErrMalformedCredentials},
		{enc("alice:" + strings.Repeat("x", authn.MaxCredentialsLength)), "", "", authn.ErrMalformedCredentials},
	} {
		user, secret, err := authn.ParseBasic(c.header)
		if user != c.user || secret != c.secret || !errors.Is(err, c.err) {
			t.Errorf("%q: %q %q %v, want %q %q %v", c.header, user, secret, err, c.user, c.secret, c.err)
		}
	}
}

// Whatever the header, ParseBasic refuses it or returns a user and a secret that encode back
// to it, never a control character, and never an error that repeats the secret.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{"Basic YWxpY2U6dG9r", "basic YWxpY2U6dG9r", "Basic YWxpY2U", "Basic ", "Bearer x", "Basic ====", "Basic YTpiOmM="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		user, secret, err := authn.ParseBasic(header)
		if err != nil {
			if user != "" || secret != "" {
				t.Fatalf("error %v with %q %q", err, user, secret)
			}
			if secret := strings.TrimSpace(header); len(secret) > 8 && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q repeats the header", err)
			}
			return
		}
		if user == "" || secret == "" || strings.Contains(user, ":") || !utf8.ValidString(user+secret) ||
			strings.ContainsFunc(user+secret, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("%q gave %q %q", header, user, secret)
		}
		u2, s2, err := authn.ParseBasic("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret)))
		if err != nil || u2 != user || s2 != secret {
			t.Fatalf("round trip of %q %q: %q %q %v", user, secret, u2, s2, err)
		}
	})
}

// Every challenge that validates is read back by Spack's pattern exactly as it was made.
func FuzzChallenge(f *testing.F) {
	f.Add("http://127.0.0.1:8080/auth/token/", "http://127.0.0.1:8080", "build", "")
	f.Add("https://realm.example/token", "spackmon", "build", "invalid_token")
	f.Add(`http://a/"`, `x",realm="http://evil`, "build", "insufficient_scope")
	f.Fuzz(func(t *testing.T, realm, service, scope, errorCode string) {
		c := authn.Challenge{Realm: realm, Service: service, Scope: scope}
		if errorCode == authn.InvalidToken || errorCode == authn.InsufficientScope {
			c.Error = errorCode
		}
		if c.Validate() != nil {
			return
		}
		got, err := authn.ParseChallenge(c.String())
		if err != nil || got != c {
			t.Fatalf("%q parsed to %+v, %v; want %+v", c.String(), got, err, c)
		}
	})
}

// ParseChallenge never panics and returns a realm and service whenever it succeeds.
func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer realm="http://h/auth/token/",service="http://h",scope="build"`)
	f.Add(`realm="x"`)
	f.Add(`service="" realm=""`)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := authn.ParseChallenge(h)
		if err == nil && (c.Realm == "" || c.Service == "") {
			t.Fatalf("%q: %+v without realm or service", h, c)
		}
	})
}
