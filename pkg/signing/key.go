// Package signing holds the keys the auth realm signs its tokens with: loading them from PEM,
// generating one into a data directory, their RFC 7638 thumbprints, a key set that keeps a
// rotated-out key published until its tokens have expired, and the JWT claims of PROTOCOL.md
// §3.4. Only asymmetric algorithms exist here: EdDSA (Ed25519) and ES256 (ECDSA P-256).
package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/golang-jwt/jwt/v5"
)

// The JWS algorithms a realm token may carry.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
)

// Algorithms lists every algorithm a verifier should accept.
func Algorithms() []string { return []string{AlgEdDSA, AlgES256} }

// Key is a private signing key with its algorithm and key id.
type Key struct {
	signer crypto.Signer
	method jwt.SigningMethod
	jwk    JWK
}

// NewKey wraps an Ed25519 or ECDSA P-256 private key. Anything else is refused.
func NewKey(priv crypto.PrivateKey) (*Key, error) {
	var (
		signer crypto.Signer
		method jwt.SigningMethod
	)
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, errors.New("signing: malformed Ed25519 private key")
		}
		signer, method = k, jwt.SigningMethodEdDSA
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing: ECDSA curve %s is not supported, only P-256 (ES256)", k.Curve.Params().Name)
		}
		signer, method = k, jwt.SigningMethodES256
	default:
		return nil, fmt.Errorf("signing: unsupported private key type %T (want Ed25519 or ECDSA P-256)", priv)
	}
	jwk, err := PublicJWK(signer.Public())
	if err != nil {
		return nil, err
	}
	jwk.Alg = method.Alg()
	jwk.Use = "sig"
	return &Key{signer: signer, method: method, jwk: jwk}, nil
}

// GenerateEd25519 returns a fresh Ed25519 key.
func GenerateEd25519() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signing: generate Ed25519 key: %w", err)
	}
	return NewKey(priv)
}

// KID is the key id: the RFC 7638 thumbprint of the public key.
func (k *Key) KID() string { return k.jwk.Kid }

// Alg is the JWS algorithm of the key: EdDSA or ES256.
func (k *Key) Alg() string { return k.method.Alg() }

// Public returns the public half.
func (k *Key) Public() crypto.PublicKey { return k.signer.Public() }

// JWK returns the public key as published in the JWKS.
func (k *Key) JWK() JWK { return k.jwk }

// MarshalPEM encodes the private key as a PKCS#8 "PRIVATE KEY" block.
func (k *Key) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.signer)
	if err != nil {
		return nil, fmt.Errorf("signing: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePEM reads the first private key in data: PKCS#8 ("PRIVATE KEY", Ed25519 or ECDSA
// P-256) or SEC 1 ("EC PRIVATE KEY", as `openssl ecparam -genkey` writes it). Other blocks
// before it, such as "EC PARAMETERS", are skipped.
func ParsePEM(data []byte) (*Key, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("signing: no private key found in PEM data")
		}
		switch block.Type {
		case "PRIVATE KEY":
			priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("signing: parse PKCS#8 private key: %w", err)
			}
			return NewKey(priv)
		case "EC PRIVATE KEY":
			priv, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("signing: parse EC private key: %w", err)
			}
			return NewKey(priv)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("signing: encrypted private keys are not supported; store the key unencrypted with mode 0600")
		case "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY":
			return nil, fmt.Errorf("signing: %q is not supported (want an Ed25519 or ECDSA P-256 key in PKCS#8)", block.Type)
		}
	}
}

// LoadFile reads a PEM private key from path.
func LoadFile(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing: read key file: %w", err)
	}
	k, err := ParsePEM(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// JWK is one public key of a JWK Set (RFC 7517), OKP (RFC 8037) or EC.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// JWKS is the JSON document served at /.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

var b64 = base64.RawURLEncoding

// PublicJWK describes an Ed25519 or ECDSA P-256 public key as a JWK with its kid set to the
// RFC 7638 thumbprint (alg and use are left empty).
func PublicJWK(pub crypto.PublicKey) (JWK, error) {
	var j JWK
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return JWK{}, errors.New("signing: malformed Ed25519 public key")
		}
		j = JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(p)}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return JWK{}, errors.New("signing: only P-256 ECDSA keys are supported")
		}
		raw, err := p.Bytes() // 0x04 || X || Y, each coordinate padded to 32 bytes
		if err != nil {
			return JWK{}, fmt.Errorf("signing: encode EC public key: %w", err)
		}
		j = JWK{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(raw[1:33]), Y: b64.EncodeToString(raw[33:65])}
	default:
		return JWK{}, fmt.Errorf("signing: unsupported public key type %T", pub)
	}
	j.Kid = j.thumbprint()
	return j, nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of an Ed25519 or ECDSA P-256 public key.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	j, err := PublicJWK(pub)
	if err != nil {
		return "", err
	}
	return j.Kid, nil
}

// canonical is the RFC 7638 §3.2 input: only the required members, names in lexicographic
// order, no whitespace. Every value is a fixed name or base64url, so none needs escaping.
func (j JWK) canonical() string {
	if j.Kty == "EC" {
		return `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	}
	return `{"crv":"` + j.Crv + `","kty":"` + j.Kty + `","x":"` + j.X + `"}`
}

func (j JWK) thumbprint() string {
	sum := sha256.Sum256([]byte(j.canonical()))
	return b64.EncodeToString(sum[:])
}
