package signing

import (
	"errors"
	"sync"
	"time"
)

// KeySet signs with its current key and publishes, besides it, every key it rotated out until
// the tokens that key signed have expired (plus Leeway), so a rotation needs no restart and
// invalidates no token. It is safe for concurrent use.
type KeySet struct {
	ttl time.Duration

	mu      sync.Mutex
	current *entry
	// next is published ahead of signing with it (Stage), so that verifiers know it before
	// the first token it signs reaches them.
	next    *Key
	retired []*entry
}

type entry struct {
	key *Key
	// lastExp is the latest exp of a token this key signed.
	lastExp time.Time
	// until is when a retired key leaves the JWKS.
	until time.Time
}

// NewKeySet returns a set signing with current; ttl is the token lifetime.
func NewKeySet(current *Key, ttl time.Duration) (*KeySet, error) {
	if current == nil {
		return nil, errors.New("signing: no key")
	}
	if ttl <= 0 {
		return nil, errors.New("signing: token TTL must be positive")
	}
	return &KeySet{ttl: ttl, current: &entry{key: current}}, nil
}

// TTL is the token lifetime of the set.
func (s *KeySet) TTL() time.Duration { return s.ttl }

// Current returns the key new tokens are signed with.
func (s *KeySet) Current() *Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current.key
}

// Rotate makes next the signing key. The old one stays in the JWKS until every token it signed
// has expired: at least now+TTL, later if it signed a token expiring later, plus Leeway.
// Rotating to the current key is a no-op.
func (s *KeySet) Rotate(next *Key, now time.Time) error {
	if next == nil {
		return errors.New("signing: no key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if next.KID() == s.current.key.KID() {
		return nil
	}
	old := s.current
	old.until = now.Add(s.ttl)
	if old.lastExp.After(old.until) {
		old.until = old.lastExp
	}
	old.until = old.until.Add(Leeway)
	kept := s.retired[:0]
	for _, e := range s.retired {
		if e.key.KID() != next.KID() && now.Before(e.until) {
			kept = append(kept, e)
		}
	}
	s.retired = append(kept, old)
	s.current = &entry{key: next}
	if s.next != nil && s.next.KID() == next.KID() {
		s.next = nil
	}
	return nil
}

// Stage publishes next in the JWKS without signing with it; Rotate to it later. Staging the
// current key, or another key, replaces what was staged.
func (s *KeySet) Stage(next *Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if next != nil && next.KID() == s.current.key.KID() {
		next = nil
	}
	s.next = next
}

// JWKS returns the public keys to publish at now: the current key first, then a staged one,
// then the retired keys whose tokens may still be valid.
func (s *KeySet) JWKS(now time.Time) JWKS {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := JWKS{Keys: []JWK{s.current.key.JWK()}}
	if s.next != nil {
		out.Keys = append(out.Keys, s.next.JWK())
	}
	for _, e := range s.retired {
		if now.Before(e.until) {
			out.Keys = append(out.Keys, e.key.JWK())
		}
	}
	return out
}

// Sign signs claims with the current key.
func (s *KeySet) Sign(c *Claims) (string, error) {
	if err := checkClaims(c); err != nil {
		return "", err
	}
	s.mu.Lock()
	e := s.current
	if exp := c.ExpiresAt.Time; exp.After(e.lastExp) {
		e.lastExp = exp
	}
	s.mu.Unlock()
	return e.key.Sign(c)
}

// IssueWebSession signs a web session token for who: audiences service and AudienceWeb, no
// access, valid for ttl.
func (s *KeySet) IssueWebSession(issuer string, who Subject, service string, now time.Time, ttl time.Duration) (string, *Claims, error) {
	c, err := NewClaims(issuer, who.Name, service, []Access{}, now, ttl)
	if err != nil {
		return "", nil, err
	}
	c.Audience = append(c.Audience, AudienceWeb)
	c.UserID, c.APITokenID = who.UserID, who.APITokenID
	tok, err := s.Sign(c)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

// Issue builds the claims of a token for who with NewClaims and the set's TTL and signs them
// with the current key.
func (s *KeySet) Issue(issuer string, who Subject, audience string, access []Access, now time.Time) (string, *Claims, error) {
	c, err := NewClaims(issuer, who.Name, audience, access, now, s.ttl)
	if err != nil {
		return "", nil, err
	}
	c.UserID, c.APITokenID = who.UserID, who.APITokenID
	tok, err := s.Sign(c)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}
