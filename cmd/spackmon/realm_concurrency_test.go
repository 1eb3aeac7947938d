package main

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// askRealmAtOnce asks the realm for n tokens at the same time with the same credentials and
// counts the answers by status.
func askRealmAtOnce(t *testing.T, srv *testServer, n int, credentials http.Header) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, err := srv.send(http.MethodGet, "/auth/token/", nil, credentials)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			statuses[a.Status]++
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// Spack jobs of one user started together (a CI matrix behind one address) log in at once:
// every one of them gets its token, however many are in flight, since none of them fails.
// Guesses made at once still meet the limit: the first ten are checked and refused, the rest
// are answered 429 without a check. The realm's clock stands still, so no failure is earned
// back while the test runs.
func TestConcurrentLogins(t *testing.T) {
	frozen := time.Now()
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.Clock = func() time.Time { return frozen } })
	const clients = 64
	got := askRealmAtOnce(t, srv, clients, basic(srv.user, srv.apiToken))
	if got[http.StatusOK] != clients {
		t.Errorf("%d concurrent logins with good credentials: answers %v, want all %d", clients, got, http.StatusOK)
	}
	got = askRealmAtOnce(t, srv, clients, basic(srv.user, "smt_000000000000_wrong"))
	// The per-user allowance of failures (services/auth/service/limiter.go).
	const allowance = 10
	if got[http.StatusUnauthorized] != allowance || got[http.StatusTooManyRequests] != clients-allowance {
		t.Errorf("%d concurrent wrong logins: answers %v, want %d of %d and the rest %d", clients, got,
			allowance, http.StatusUnauthorized, http.StatusTooManyRequests)
	}
	if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic(srv.user, srv.apiToken)); a.Status != http.StatusTooManyRequests {
		t.Errorf("good credentials after the failures: %d %s", a.Status, a.Body)
	}
}
