package authn

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/spackmon/spackmon/pkg/signing"
)

// DefaultTokenCacheSize is how many verified tokens a Verifier remembers. A client sends
// the same token with every request of a build, so a few thousand cover many concurrent
// builds; an entry is a hash and a pointer to the claims.
const DefaultTokenCacheSize = 4096

// WithTokenCache sets how many verified tokens are remembered (0 verifies every token).
func WithTokenCache(size int) VerifierOption {
	return func(c *verifierConfig) { c.cacheSize = max(size, 0) }
}

// tokenCache remembers the claims of tokens whose signature was checked, keyed by the
// token's SHA-256 (the token itself is a credential and is not kept), until the token
// expires. Only the signature check is saved: expiry, the key still being published and
// revocations are checked on every use.
type tokenCache struct {
	size int
	mu   sync.Mutex
	m    map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	claims  *signing.Claims
	kid     string
	expires time.Time // exp plus the leeway the parser allows
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	return &tokenCache{size: size, m: make(map[[sha256.Size]byte]cachedToken)}
}

// get returns the claims of raw if it was verified and has not expired at now.
func (c *tokenCache) get(raw string, now time.Time) (cachedToken, bool) {
	if c == nil {
		return cachedToken{}, false
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if ok && !now.Before(e.expires) {
		delete(c.m, key)
		return cachedToken{}, false
	}
	return e, ok
}

// put remembers raw's verified claims. When the cache is full the expired entries go, and
// if that frees nothing every entry goes: tokens are verified again, nothing grows.
func (c *tokenCache) put(raw, kid string, claims *signing.Claims, now time.Time) {
	if c == nil || claims.ExpiresAt == nil {
		return
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.size {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.size {
			clear(c.m)
		}
	}
	c.m[key] = cachedToken{claims: claims, kid: kid, expires: claims.ExpiresAt.Add(signing.Leeway)}
}

// len is the number of entries, for tests of the bound.
func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
