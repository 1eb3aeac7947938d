package apitoken_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/services/auth/apitoken"
)

func TestNewParseRoundTrip(t *testing.T) {
	tok, err := apitoken.New()
	if err != nil {
		t.Fatal(err)
	}
	s := tok.Reveal()
	if len(s) != apitoken.Length || !strings.HasPrefix(s, "smt_"+tok.Prefix()+"_") {
		t.Fatalf("token %q (len %d) does not have the expected form", s, len(s))
	}
	if len(tok.Prefix()) != apitoken.PrefixLength {
		t.Fatalf("prefix %q", tok.Prefix())
	}
	for _, in := range []string{s, s + "\n", "  " + s + " "} {
		got, err := apitoken.Parse(in)
		if err != nil || got != tok {
			t.Fatalf("Parse(%q) = %v, %v", in, got, err)
		}
	}
}

func TestTokensDiffer(t *testing.T) {
	seen := map[string]bool{}
	prefixes := map[string]bool{}
	for range 1000 {
		tok, err := apitoken.New()
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok.Reveal()] || prefixes[tok.Prefix()] {
			t.Fatalf("repeated token or prefix after %d tokens", len(seen))
		}
		seen[tok.Reveal()], prefixes[tok.Prefix()] = true, true
	}
}

func TestParseRefuses(t *testing.T) {
	tok, err := apitoken.New()
	if err != nil {
		t.Fatal(err)
	}
	s := tok.Reveal()
	body := strings.TrimPrefix(s, "smt_")
	cases := map[string]string{
		"empty":            "",
		"scheme only":      "smt_",
		"other scheme":     "xyz_" + body,
		"no scheme":        body,
		"short":            s[:len(s)-1],
		"long":             s + "a",
		"no separator":     "smt_" + body[:12] + "-" + body[13:],
		"upper-case hex":   "smt_" + strings.ToUpper(body[:12]) + body[12:],
		"non-hex prefix":   "smt_zzzzzzzzzzzz" + body[12:],
		"bad secret char":  s[:len(s)-2] + "1" + s[len(s)-1:],
		"upper secret":     "smt_" + body[:13] + strings.ToUpper(body[13:]),
		"inner space":      s[:20] + " " + s[21:],
		"padding":          s[:len(s)-1] + "=",
		"non-canonical":    s[:len(s)-1] + nonCanonicalLast(s[len(s)-1]),
		"prefix separator": "smt_" + body[:11] + "_" + body[12:],
	}
	for name, in := range cases {
		got, err := apitoken.Parse(in)
		if err != apitoken.ErrMalformed || !got.IsZero() {
			t.Errorf("%s: Parse = %v, %v; want ErrMalformed", name, got, err)
		}
		if err != nil && strings.Contains(err.Error(), in) && in != "" {
			t.Errorf("%s: the error repeats the input", name)
		}
	}
}

// nonCanonicalLast changes the last character of a secret so that it sets one of the low
// bits that 32 bytes leave unused in the 52nd character.
func nonCanonicalLast(c byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	i := strings.IndexByte(alphabet, c)
	return string(alphabet[i|1])
}

func TestHashAndVerify(t *testing.T) {
	tok, err := apitoken.New()
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(tok.Reveal()))
	h := tok.Hash()
	if !bytes.Equal(h, want[:]) {
		t.Fatal("Hash is not SHA-256 of the token")
	}
	if !tok.Verify(h) {
		t.Fatal("Verify refused the token's own hash")
	}
	other, err := apitoken.New()
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), h...)
	bad[len(bad)-1] ^= 1
	for name, hash := range map[string][]byte{
		"other token": other.Hash(), "one bit off": bad, "empty": nil, "truncated": h[:16],
	} {
		if tok.Verify(hash) {
			t.Errorf("Verify accepted %s", name)
		}
	}
	// The same secret under another prefix is another token.
	moved, err := apitoken.Parse("smt_000000000000_" + strings.SplitN(tok.Reveal(), "_", 3)[2])
	if err != nil {
		t.Fatal(err)
	}
	if moved.Prefix() != tok.Prefix() && moved.Verify(h) {
		t.Error("a secret verified under another prefix")
	}
}

func TestPrintingHidesTheSecret(t *testing.T) {
	tok, err := apitoken.New()
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.SplitN(tok.Reveal(), "_", 3)[2]
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("issued", "token", tok)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("issued", "token", tok)
	outputs := []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q %x", tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%v", struct{ T apitoken.Token }{tok}), fmt.Sprintf("%+v", &tok), logged.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("the secret shows in %q", out)
		}
		if !strings.Contains(out, tok.Prefix()) && !strings.Contains(out, fmt.Sprintf("%x", tok.String())) {
			t.Errorf("the prefix does not show in %q", out)
		}
	}
}

// Parse never panics, and what it accepts is a token that reads back as the input.
func FuzzParse(f *testing.F) {
	tok, err := apitoken.New()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{tok.Reveal(), "", "smt_", "smt_000000000000_", tok.Reveal()[:40], tok.Reveal() + "\n", "smt_" + strings.Repeat("_", 64)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := apitoken.Parse(s)
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("Parse(%q) failed but returned %v", s, got)
			}
			return
		}
		if got.Reveal() != strings.TrimSpace(s) || len(got.Hash()) != 32 || !got.Verify(got.Hash()) {
			t.Fatalf("Parse(%q) = %v", s, got)
		}
	})
}
