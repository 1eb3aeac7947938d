package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spackmon/spackmon/pkg/signing"
)

// Defaults of the revocation check.
const (
	// DefaultRevocationRefresh is how often the revocations are fetched: how long a revoked
	// token may still be accepted while the realm answers.
	DefaultRevocationRefresh = 5 * time.Second
	// DefaultRevocationStaleAfter is how long the last revocations fetched are trusted while
	// the realm does not answer. Past it every token is refused as unverifiable (fail closed)
	// until a fetch succeeds again.
	DefaultRevocationStaleAfter = time.Minute
	// revocationRetry is the least time between two fetches that a token caused, when the
	// list is missing or stale: services often start before the realm answers.
	revocationRetry = time.Second
	// maxRevocationBytes bounds a revocation list: far more than the revocations of one
	// token lifetime.
	maxRevocationBytes = 8 << 20
)

// ErrRevocationsUnknown is why every token is refused while the revocations are stale: the
// caller answers 503, not a challenge.
var ErrRevocationsUnknown = errors.New("authn: the realm's revocations could not be fetched recently")

// RevocationList is what the realm publishes at /.well-known/spackmon-revocations.json: the
// revocations of the last token lifetime.
type RevocationList struct {
	Revocations []Revocation `json:"revocations"`
}

// Revocation revokes the tokens issued for an API token (APITokenID set) or, with
// APITokenID zero, those of a user issued at or before RevokedAt.
type Revocation struct {
	UserID     int64 `json:"user_id"`
	APITokenID int64 `json:"api_token_id,omitempty"`
	// RevokedAt is in seconds since the epoch, rounded down, as iat is.
	RevokedAt int64 `json:"revoked_at"`
}

// revocationSet is one fetched list, indexed.
type revocationSet struct {
	// users holds each user's latest revocation time: any revocation at or after a token's
	// iat revokes it, so the latest decides.
	users   map[int64]int64
	tokens  map[int64]struct{}
	fetched time.Time
}

func newRevocationSet(l RevocationList, fetched time.Time) *revocationSet {
	s := &revocationSet{users: map[int64]int64{}, tokens: map[int64]struct{}{}, fetched: fetched}
	for _, r := range l.Revocations {
		if r.APITokenID != 0 {
			s.tokens[r.APITokenID] = struct{}{}
		} else if r.RevokedAt > s.users[r.UserID] {
			s.users[r.UserID] = r.RevokedAt
		}
	}
	return s
}

func (s *revocationSet) revokes(c *signing.Claims) bool {
	if _, ok := s.tokens[c.APITokenID]; ok {
		return true
	}
	at, ok := s.users[c.UserID]
	return ok && c.IssuedAt != nil && c.IssuedAt.Unix() <= at
}

// revocations keeps the realm's revocation list fresh in the background.
type revocations struct {
	url        string
	client     *http.Client
	refresh    time.Duration
	staleAfter time.Duration
	log        *slog.Logger
	current    atomic.Pointer[revocationSet]
	// ready is closed once the first fetch was tried.
	ready chan struct{}
	// retry admits one fetch caused by a token at a time; lastRetry is when the last began.
	retry     sync.Mutex
	lastRetry time.Time
}

// run fetches the list now and every refresh until ctx ends.
func (r *revocations) run(ctx context.Context) {
	r.fetchLogged(ctx)
	close(r.ready)
	t := time.NewTicker(r.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.fetchLogged(ctx)
		}
	}
}

func (r *revocations) fetchLogged(ctx context.Context) {
	if err := r.fetch(ctx); err != nil && ctx.Err() == nil {
		r.log.WarnContext(ctx, "revocation fetch failed; keeping the last list", "url", r.url, "error", err)
	}
}

func (r *revocations) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRevocationBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxRevocationBytes {
		return fmt.Errorf("list larger than %d bytes", maxRevocationBytes)
	}
	var l RevocationList
	if err := json.Unmarshal(body, &l); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	r.current.Store(newRevocationSet(l, time.Now()))
	return nil
}

// check refuses a token the list revokes, or one that names no user id and API token (every
// token of this realm does). It waits for the first fetch.
// usable is the current list if it is fresh enough; otherwise it fetches one now, at most
// once per revocationRetry and one at a time, and returns nil if that does not help.
func (r *revocations) usable(ctx context.Context) *revocationSet {
	fresh := func() *revocationSet {
		if s := r.current.Load(); s != nil && time.Since(s.fetched) <= r.staleAfter {
			return s
		}
		return nil
	}
	if s := fresh(); s != nil {
		return s
	}
	// Calls that find a fetch under way do not queue behind it: a realm that does not answer
	// would hold them all for the fetch timeout.
	if !r.retry.TryLock() {
		return nil
	}
	defer r.retry.Unlock()
	if s := fresh(); s != nil || time.Since(r.lastRetry) < revocationRetry {
		return s
	}
	r.lastRetry = time.Now()
	r.fetchLogged(ctx)
	return fresh()
}

func (r *revocations) check(ctx context.Context, c *signing.Claims) error {
	select {
	case <-r.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	s := r.usable(ctx)
	if s == nil {
		return ErrRevocationsUnknown
	}
	if c.UserID == 0 || c.APITokenID == 0 {
		return fmt.Errorf("%w: no user id or API token id", ErrInvalidToken)
	}
	if s.revokes(c) {
		return fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	return nil
}
