package authn_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/signing"
)

// revocationServer serves a revocation list that the test changes, or fails.
type revocationServer struct {
	mu   sync.Mutex
	list authn.RevocationList
	fail bool
	body string // when set, served instead of the list
	srv  *httptest.Server
}

func newRevocationServer(t testing.TB) *revocationServer {
	s := &revocationServer{list: authn.RevocationList{Revocations: []authn.Revocation{}}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case s.fail:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case s.body != "":
			_, _ = w.Write([]byte(s.body))
		default:
			_ = json.NewEncoder(w).Encode(s.list)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *revocationServer) set(fn func(*revocationServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

// eventually polls until cond holds, failing after a generous bound: the verifier refreshes
// every 10 ms.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

func issueFor(t *testing.T, r *realm, who signing.Subject, at time.Time) string {
	t.Helper()
	tok, _, err := r.keys.Issue(issuer, who, audience, []signing.Access{signing.BuildAccess()}, at)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func refused(t *testing.T, v *authn.Verifier, tok string) bool {
	t.Helper()
	_, err := v.Verify(t.Context(), tok)
	if err != nil && !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("refused for another reason: %v", err)
	}
	return err != nil
}

// A revoked API token revokes its tokens; a user's revocation revokes the user's tokens
// issued until then, not those issued later (after re-enabling).
func TestRevocationsRefuseRevokedTokens(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	rs := newRevocationServer(t)
	v := verifier(t, r.url(), authn.WithRevocations(rs.srv.URL, 10*time.Millisecond, time.Minute))
	now := time.Now()
	carolOld := issueFor(t, r, signing.Subject{Name: "carol", UserID: 1, APITokenID: 10}, now.Add(-time.Minute))
	carolNew := issueFor(t, r, signing.Subject{Name: "carol", UserID: 1, APITokenID: 11}, now.Add(time.Second))
	dave := issueFor(t, r, signing.Subject{Name: "dave", UserID: 2, APITokenID: 20}, now)
	for _, tok := range []string{carolOld, carolNew, dave} {
		mustVerify(t, v, tok)
	}
	rs.set(func(s *revocationServer) {
		s.list.Revocations = append(s.list.Revocations, authn.Revocation{UserID: 2, APITokenID: 20, RevokedAt: now.Unix()})
	})
	eventually(t, "dave's revoked API token refused", func() bool { return refused(t, v, dave) })
	rs.set(func(s *revocationServer) {
		s.list.Revocations = append(s.list.Revocations, authn.Revocation{UserID: 1, RevokedAt: now.Unix()})
	})
	eventually(t, "carol's old token refused", func() bool { return refused(t, v, carolOld) })
	mustVerify(t, v, carolNew)
	// A token without the ids this realm always sets cannot be checked, so it is refused.
	mustRefuse(t, v, issueFor(t, r, signing.Subject{Name: "erin"}, now))
}

// While the list cannot be fetched the last one is used, up to the stale bound; then every
// token is unverifiable (not invalid: no challenge) until a fetch succeeds again.
func TestRevocationsFailClosed(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	rs := newRevocationServer(t)
	v := verifier(t, r.url(), authn.WithRevocations(rs.srv.URL, 10*time.Millisecond, 200*time.Millisecond))
	tok := issueFor(t, r, signing.Subject{Name: "carol", UserID: 1, APITokenID: 10}, time.Now())
	mustVerify(t, v, tok)
	rs.set(func(s *revocationServer) { s.fail = true })
	eventually(t, "tokens unverifiable once the list is stale", func() bool {
		_, err := v.Verify(t.Context(), tok)
		if err != nil && !errors.Is(err, authn.ErrRevocationsUnknown) {
			t.Fatalf("stale list: %v, want ErrRevocationsUnknown", err)
		}
		return err != nil
	})
	if _, err := v.Verify(t.Context(), tok); errors.Is(err, authn.ErrInvalidToken) {
		t.Errorf("stale list answered as an invalid token: %v", err)
	}
	rs.set(func(s *revocationServer) { s.fail = false })
	eventually(t, "tokens verified again", func() bool { _, err := v.Verify(t.Context(), tok); return err == nil })
}

// A list that does not parse, or is larger than the bound, is not taken: the last good one
// stays, and goes stale.
func TestRevocationsBadListsKeepTheLast(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	rs := newRevocationServer(t)
	rs.set(func(s *revocationServer) {
		s.list.Revocations = []authn.Revocation{{UserID: 1, APITokenID: 10, RevokedAt: 1}}
	})
	v := verifier(t, r.url(), authn.WithRevocations(rs.srv.URL, 10*time.Millisecond, 200*time.Millisecond))
	revoked := issueFor(t, r, signing.Subject{Name: "carol", UserID: 1, APITokenID: 10}, time.Now())
	mustRefuse(t, v, revoked)
	huge := `{"revocations":[` + strings.Repeat(`{"user_id":1,"revoked_at":1},`, 300000) + `{"user_id":1,"revoked_at":1}]}`
	for _, body := range []string{`{"revocations":`, huge} {
		rs.set(func(s *revocationServer) { s.body = body })
		eventually(t, "a bad list never replaces the last good one", func() bool {
			_, err := v.Verify(t.Context(), revoked)
			if err == nil {
				t.Fatal("revoked token accepted after a bad list")
			}
			return errors.Is(err, authn.ErrRevocationsUnknown)
		})
		rs.set(func(s *revocationServer) { s.body = "" })
		eventually(t, "fresh again", func() bool {
			_, err := v.Verify(t.Context(), revoked)
			return errors.Is(err, authn.ErrInvalidToken)
		})
	}
}

// A service that starts before the realm does not wait for its next refresh: a token that
// finds no list fetches one (at most once a second).
func TestRevocationsFetchedWhenMissing(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	rs := newRevocationServer(t)
	rs.set(func(s *revocationServer) { s.fail = true })
	v := verifier(t, r.url(), authn.WithRevocations(rs.srv.URL, time.Hour, time.Minute))
	tok := issueFor(t, r, signing.Subject{Name: "carol", UserID: 1, APITokenID: 10}, time.Now())
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, authn.ErrRevocationsUnknown) {
		t.Fatalf("no list yet: %v, want ErrRevocationsUnknown", err)
	}
	rs.set(func(s *revocationServer) { s.fail = false })
	eventually(t, "the list fetched on demand", func() bool { _, err := v.Verify(t.Context(), tok); return err == nil })
}

// What the revocation check adds to a verification, with a list of 10,000 revocations, and
// what the cache of verified tokens saves.
func BenchmarkVerify(b *testing.B) {
	key, _ := mustKey(b)
	for _, c := range []struct {
		withList  bool
		cacheSize int
	}{{false, 0}, {false, authn.DefaultTokenCacheSize}, {true, 0}, {true, authn.DefaultTokenCacheSize}} {
		withList := c.withList
		name := map[bool]string{false: "no revocations", true: "10000 revocations"}[withList] + map[bool]string{false: "/uncached", true: "/cached"}[c.cacheSize > 0]
		b.Run(name, func(b *testing.B) {
			r := newRealm(b, key)
			opts := []authn.VerifierOption{authn.WithTokenCache(c.cacheSize)}
			if withList {
				rs := newRevocationServer(b)
				for i := range 10000 {
					rs.list.Revocations = append(rs.list.Revocations, authn.Revocation{UserID: int64(i + 100), APITokenID: int64(i%2) * int64(i+100), RevokedAt: time.Now().Unix()})
				}
				opts = append(opts, authn.WithRevocations(rs.srv.URL, time.Minute, time.Hour))
			}
			v, err := authn.NewVerifier(b.Context(), r.url(), issuer, audience, append(opts, authn.WithLogger(slog.New(slog.DiscardHandler)))...)
			if err != nil {
				b.Fatal(err)
			}
			tok, _, err := r.keys.Issue(issuer, signing.Subject{Name: "carol", UserID: 1, APITokenID: 10}, audience, []signing.Access{signing.BuildAccess()}, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := v.Verify(b.Context(), tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(b.Context(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
