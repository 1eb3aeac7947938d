package authn_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/signing"
)

// A remembered token is still refused once it expires: the cache saves the signature
// check, not the lifetime check.
func TestCachedTokenExpires(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v := verifier(t, r.url(), authn.WithClock(clock))
	tok := r.token("alice")
	first := mustVerify(t, v, tok)
	again := mustVerify(t, v, tok)
	if first.Claims != again.Claims || authn.CachedTokens(v) != 1 {
		t.Fatalf("second verification not from the cache (%d cached)", authn.CachedTokens(v))
	}
	mu.Lock()
	now = now.Add(ttl + signing.Leeway + time.Second)
	mu.Unlock()
	mustRefuse(t, v, tok)
	if authn.CachedTokens(v) != 0 {
		t.Fatalf("expired token still cached")
	}
}

// However many distinct tokens arrive, the cache holds at most its size.
func TestTokenCacheBounded(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	v := verifier(t, r.url(), authn.WithTokenCache(8))
	for i := range 50 {
		mustVerify(t, v, r.token(fmt.Sprint("user", i)))
		if n := authn.CachedTokens(v); n > 8 || n == 0 {
			t.Fatalf("after %d tokens: %d cached, want 1..8", i+1, n)
		}
	}
}

// Without a cache every token is verified and nothing is kept.
func TestTokenCacheOff(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	v := verifier(t, r.url(), authn.WithTokenCache(0))
	tok := r.token("alice")
	if mustVerify(t, v, tok).Claims == mustVerify(t, v, tok).Claims || authn.CachedTokens(v) != 0 {
		t.Fatal("token cached with the cache off")
	}
}
