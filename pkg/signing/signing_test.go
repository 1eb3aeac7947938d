package signing

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RFC 8037 Appendix A.2 (the Ed25519 key of A.1) and A.3 (its RFC 7638 thumbprint).
const (
	rfc8037D          = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfc8037X          = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
)

func TestThumbprintRFC8037(t *testing.T) {
	seed, err := base64.RawURLEncoding.DecodeString(rfc8037D)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	j := k.JWK()
	if j.X != rfc8037X {
		t.Fatalf("x = %s, want %s", j.X, rfc8037X)
	}
	if got := j.canonical(); got != `{"crv":"Ed25519","kty":"OKP","x":"`+rfc8037X+`"}` {
		t.Fatalf("canonical JSON = %s", got)
	}
	if k.KID() != rfc8037Thumbprint {
		t.Fatalf("kid = %s, want %s", k.KID(), rfc8037Thumbprint)
	}
	if tp, _ := Thumbprint(k.Public()); tp != rfc8037Thumbprint {
		t.Fatalf("Thumbprint = %s", tp)
	}
}

// The EC thumbprint checked against an independent construction: encoding/json sorts map
// keys and writes no whitespace, which is what RFC 7638 asks for.
func TestThumbprintEC(t *testing.T) {
	for range 20 { // coordinates with leading zero bytes must keep their 32 bytes
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		j := k.JWK()
		for _, c := range []string{j.X, j.Y} {
			if raw, _ := base64.RawURLEncoding.DecodeString(c); len(raw) != 32 {
				t.Fatalf("coordinate %s has %d bytes", c, len(raw))
			}
		}
		canon, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": j.X, "y": j.Y})
		sum := sha256.Sum256(canon)
		if want := base64.RawURLEncoding.EncodeToString(sum[:]); k.KID() != want {
			t.Fatalf("kid %s, want %s", k.KID(), want)
		}
		if j.Alg != AlgES256 || j.Use != "sig" || j.Kty != "EC" || j.Crv != "P-256" {
			t.Fatalf("JWK %+v", j)
		}
	}
}

func pemBlock(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePEM(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemBlock(t, "PRIVATE KEY", der)
	}
	sec1, _ := x509.MarshalECPrivateKey(ecPriv)
	params := pemBlock(t, "EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})

	for name, tc := range map[string]struct {
		data []byte
		alg  string
	}{
		"ed25519 pkcs8":           {pkcs8(edPriv), AlgEdDSA},
		"p256 pkcs8":              {pkcs8(ecPriv), AlgES256},
		"p256 sec1 after params":  {append(params, pemBlock(t, "EC PRIVATE KEY", sec1)...), AlgES256},
		"p384 refused":            {pkcs8(p384), ""},
		"rsa refused":             {pkcs8(rsaPriv), ""},
		"encrypted refused":       {pemBlock(t, "ENCRYPTED PRIVATE KEY", []byte{1}), ""},
		"public key only refused": {pemBlock(t, "PUBLIC KEY", []byte{1}), ""},
		"garbage refused":         {[]byte("not pem"), ""},
		"corrupt pkcs8 refused":   {pemBlock(t, "PRIVATE KEY", []byte{1, 2, 3}), ""},
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParsePEM(tc.data)
			if tc.alg == "" {
				if err == nil {
					t.Fatalf("accepted, alg %s", k.Alg())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg() != tc.alg {
				t.Fatalf("alg %s, want %s", k.Alg(), tc.alg)
			}
			// MarshalPEM round-trips to the same key.
			out, err := k.MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			k2, err := ParsePEM(out)
			if err != nil || k2.KID() != k.KID() {
				t.Fatalf("round trip: %v, kid %v", err, k2)
			}
		})
	}
}

func TestLoadOrGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadOrGenerate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Alg() != AlgEdDSA {
		t.Fatalf("generated %s", k1.Alg())
	}
	st, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	if dst, _ := os.Stat(dir); dst.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", dst.Mode().Perm())
	}
	k2, err := LoadOrGenerate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k2.KID() != k1.KID() {
		t.Fatal("second start generated a new key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left files behind: %v", entries)
	}
	// A corrupt key file is an error, never silently replaced.
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrGenerate(dir); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}

func TestLoadOrGenerateConcurrent(t *testing.T) {
	dir := t.TempDir()
	kids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range kids {
		wg.Go(func() {
			k, err := LoadOrGenerate(dir)
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = k.KID()
		})
	}
	wg.Wait()
	for _, kid := range kids {
		if kid != kids[0] {
			t.Fatalf("different keys: %v", kids)
		}
	}
}

func TestSignAndClaims(t *testing.T) {
	for _, gen := range []func() (*Key, error){GenerateEd25519, func() (*Key, error) {
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return NewKey(p)
	}} {
		k, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		c, err := NewClaims("https://realm", "alice", "spackmon", []Access{BuildAccess()}, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := k.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		var got Claims
		parsed, err := jwt.ParseWithClaims(tok, &got, func(*jwt.Token) (any, error) { return k.Public(), nil },
			jwt.WithValidMethods([]string{k.Alg()}))
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Header["kid"] != k.KID() || parsed.Header["alg"] != k.Alg() {
			t.Fatalf("header %v", parsed.Header)
		}
		if got.Subject != "alice" || got.Issuer != "https://realm" || !slices.Equal(got.Audience, []string{"spackmon"}) ||
			got.ID == "" || got.ExpiresAt == nil || got.NotBefore == nil || got.IssuedAt == nil || !got.CanBuild() {
			t.Fatalf("claims %+v", got)
		}
		// The access claim has exactly the shape of PROTOCOL.md §3.4.
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		var m map[string]json.RawMessage
		if err := json.Unmarshal(payload, &m); err != nil {
			t.Fatal(err)
		}
		if string(m["access"]) != `[{"type":"build","name":"*","actions":["build"]}]` {
			t.Fatalf("access %s", m["access"])
		}
	}
	c2, _ := NewClaims("i", "s", "a", nil, time.Now(), time.Hour)
	c3, _ := NewClaims("i", "s", "a", nil, time.Now(), time.Hour)
	if c2.ID == c3.ID {
		t.Fatal("jti repeats")
	}
	k, _ := GenerateEd25519()
	c2.ExpiresAt = nil
	if _, err := k.Sign(c2); err == nil {
		t.Fatal("signed claims without exp")
	}
}

func TestAllows(t *testing.T) {
	c := &Claims{Access: []Access{{Type: "build", Name: "*", Actions: []string{"build"}}, {Type: "repo", Name: "x", Actions: []string{"pull"}}}}
	for _, tc := range []struct {
		typ, name, action string
		want              bool
	}{
		{"build", "*", "build", true},
		{"build", "anything", "build", true},
		{"build", "*", "delete", false},
		{"spec", "*", "build", false},
		{"repo", "x", "pull", true},
		{"repo", "*", "pull", false},
		{"repo", "y", "pull", false},
	} {
		if got := c.Allows(tc.typ, tc.name, tc.action); got != tc.want {
			t.Errorf("Allows(%s, %s, %s) = %v", tc.typ, tc.name, tc.action, got)
		}
	}
	if (&Claims{}).CanBuild() || (*Claims)(nil).CanBuild() {
		t.Fatal("empty claims can build")
	}
}

func kids(j JWKS) []string {
	var out []string
	for _, k := range j.Keys {
		out = append(out, k.Kid)
	}
	return out
}

func TestKeySetRotation(t *testing.T) {
	ttl := 100 * time.Minute
	a, _ := GenerateEd25519()
	b, _ := GenerateEd25519()
	c, _ := GenerateEd25519()
	s, err := NewKeySet(a, ttl)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if got := kids(s.JWKS(t0)); !slices.Equal(got, []string{a.KID()}) {
		t.Fatalf("JWKS %v", got)
	}
	if err := s.Rotate(b, t0); err != nil {
		t.Fatal(err)
	}
	if s.Current() != b {
		t.Fatal("current is not the new key")
	}
	if got := kids(s.JWKS(t0.Add(ttl))); !slices.Equal(got, []string{b.KID(), a.KID()}) {
		t.Fatalf("JWKS right after rotation %v", got)
	}
	if got := kids(s.JWKS(t0.Add(ttl + Leeway - time.Second))); !slices.Equal(got, []string{b.KID(), a.KID()}) {
		t.Fatalf("JWKS within leeway %v", got)
	}
	if got := kids(s.JWKS(t0.Add(ttl + Leeway))); !slices.Equal(got, []string{b.KID()}) {
		t.Fatalf("JWKS after the old tokens expired %v", got)
	}

	// A key that signed a token expiring later than now+TTL stays until that token expires.
	cl, _ := NewClaims("i", "s", "a", nil, t0, 3*ttl)
	if _, err := s.Sign(cl); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Minute)
	if err := s.Rotate(c, t1); err != nil {
		t.Fatal(err)
	}
	if got := kids(s.JWKS(t1.Add(2 * ttl))); !slices.Equal(got, []string{c.KID(), b.KID()}) {
		t.Fatalf("JWKS %v", got)
	}
	if got := kids(s.JWKS(t0.Add(3*ttl + Leeway))); !slices.Equal(got, []string{c.KID()}) {
		t.Fatalf("JWKS %v", got)
	}

	// Two rotations in a row keep both retired keys; rotating back to one removes it from the
	// retired list; rotating to the current key changes nothing.
	s2, _ := NewKeySet(a, ttl)
	_ = s2.Rotate(b, t0)
	_ = s2.Rotate(c, t0)
	if got := kids(s2.JWKS(t0)); !slices.Equal(got, []string{c.KID(), a.KID(), b.KID()}) {
		t.Fatalf("JWKS %v", got)
	}
	_ = s2.Rotate(a, t0)
	_ = s2.Rotate(a, t0)
	if got := kids(s2.JWKS(t0)); !slices.Equal(got, []string{a.KID(), b.KID(), c.KID()}) {
		t.Fatalf("JWKS %v", got)
	}

	// The JSON document.
	doc, err := json.Marshal(s.JWKS(t0))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	k0 := raw.Keys[0]
	if len(k0) != 6 || k0["kty"] != "OKP" || k0["crv"] != "Ed25519" || k0["alg"] != "EdDSA" || k0["use"] != "sig" ||
		k0["kid"] != c.KID() || k0["x"] == "" {
		t.Fatalf("JWK %v", k0)
	}
}

func TestKeySetIssue(t *testing.T) {
	k, _ := GenerateEd25519()
	s, _ := NewKeySet(k, DefaultTTL)
	now := time.Now()
	tok, c, err := s.Issue("https://realm", Subject{Name: "bob", UserID: 7, APITokenID: 9}, "spackmon", []Access{BuildAccess()}, now)
	if err != nil || tok == "" {
		t.Fatal(err)
	}
	if got := c.ExpiresAt.Sub(c.IssuedAt.Time); got != DefaultTTL {
		t.Fatalf("lifetime %v", got)
	}
	var back Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &back); err != nil || back.Subject != "bob" || back.UserID != 7 || back.APITokenID != 9 {
		t.Fatalf("claims read back: %+v, %v", back, err)
	}
	if _, err := NewKeySet(nil, time.Hour); err == nil {
		t.Fatal("nil key accepted")
	}
	if _, err := NewKeySet(k, 0); err == nil {
		t.Fatal("zero TTL accepted")
	}
}

// Replacing the key file rotates the set: the new key is published first, signs only after
// the time given ahead, and the old one stays published; a file that does not parse keeps
// the current key.
func TestWatchFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	write := func(k *Key) {
		data, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	first, err := GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	write(first)
	set, err := NewKeySet(first, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		WatchFile(ctx, path, set, 5*time.Millisecond, 2*time.Second, func(err error) { errc <- err })
		close(done)
	}()
	defer func() { cancel(); <-done }()

	second, err := GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	write(second)
	waitFor(t, func() bool { return len(set.JWKS(time.Now()).Keys) == 2 })
	if set.Current().KID() != first.KID() {
		t.Fatal("the new key signs before it was published ahead")
	}
	if kids := kidsOf(set.JWKS(time.Now())); kids[0] != first.KID() || kids[1] != second.KID() {
		t.Errorf("JWKS while staged: %v", kids)
	}
	waitFor(t, func() bool { return set.Current().KID() == second.KID() })
	if kids := kidsOf(set.JWKS(time.Now())); len(kids) != 2 || kids[0] != second.KID() || kids[1] != first.KID() {
		t.Errorf("JWKS after rotation: %v", kids)
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("a broken key file was not reported")
	}
	if set.Current().KID() != second.KID() {
		t.Error("a broken key file replaced the key")
	}
}

func kidsOf(s JWKS) []string {
	var out []string
	for _, k := range s.Keys {
		out = append(out, k.Kid)
	}
	return out
}

// waitFor polls cond until it holds, failing after a generous bound.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached")
}
