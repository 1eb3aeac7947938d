// Package storetest is the contract every auth store.Store implementation must meet. A
// backend's test calls Run with a function that opens a fresh, empty (migrated) store for
// one test:
//
//	func TestContract(t *testing.T) { storetest.Run(t, func(t *testing.T) store.Store { return open(t) }) }
//
// Every subtest opens its own store and runs in parallel with the others. No backend opts
// out of any part.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/contract"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/apitoken"
	"github.com/spackmon/spackmon/services/auth/store"
)

// Run runs the contract suite.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	contract.Run(t, open,
		contract.Group[store.Store]{Name: "Users", Tests: userTests},
		contract.Group[store.Store]{Name: "Tokens", Tests: tokenTests},
		contract.Group[store.Store]{Name: "Concurrency", Tests: concurrencyTests},
		contract.Group[store.Store]{Name: "Revocations", Tests: revocationTests},
		contract.Group[store.Store]{Name: "Identities", Tests: identityTests},
	)
}

type namedTest = contract.Test[store.Store]

func ctx(t testing.TB) context.Context { return contract.Context(t) }

func createUser(t testing.TB, st store.Store, name string, admin bool) store.User {
	t.Helper()
	u, err := st.CreateUser(ctx(t), store.NewUser{Name: name, Admin: admin})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

// newToken makes a real API token and what the store is given of it.
func newToken(t testing.TB) (apitoken.Token, store.NewToken) {
	t.Helper()
	tok, err := apitoken.New()
	if err != nil {
		t.Fatal(err)
	}
	return tok, store.NewToken{Prefix: tok.Prefix(), Hash: tok.Hash()}
}

func addToken(t testing.TB, st store.Store, user string) (apitoken.Token, store.Token) {
	t.Helper()
	tok, nt := newToken(t)
	stored, err := st.AddToken(ctx(t), user, nt)
	if err != nil {
		t.Fatalf("AddToken(%s): %v", user, err)
	}
	return tok, stored
}

func findToken(t testing.TB, st store.Store, prefix string) (store.Token, store.User) {
	t.Helper()
	tok, u, err := st.FindToken(ctx(t), prefix)
	if err != nil {
		t.Fatalf("FindToken: %v", err)
	}
	return tok, u
}

func listTokens(t testing.TB, st store.Store, user string) []store.Token {
	t.Helper()
	tokens, err := st.ListTokens(ctx(t), user)
	if err != nil {
		t.Fatalf("ListTokens(%s): %v", user, err)
	}
	return tokens
}

// wantErr fails unless err is a domain error of reason r, and, if message is not empty,
// has that message.
func wantErr(t testing.TB, what string, err error, r errs.Reason, message string) {
	t.Helper()
	if !errs.Is(err, r) {
		t.Errorf("%s = %v, want %s", what, err, r)
		return
	}
	if message != "" && err.Error() != message {
		t.Errorf("%s message = %q, want %q", what, err.Error(), message)
	}
}

// window checks that a time the store recorded lies between before and after, give or
// take the precision the stores keep.
func window(t testing.TB, what string, got, before, after time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s = %v is not in UTC", what, got)
	}
	if got.Before(before.Add(-time.Millisecond)) || got.After(after.Add(time.Millisecond)) {
		t.Errorf("%s = %v, not within [%v, %v]", what, got, before, after)
	}
}

const goroutines = 16

// parallel runs fn(i) for i in [0, goroutines) at once and returns their errors.
func parallel(fn func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]error, goroutines)
	for i := range goroutines {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

func newAPIToken() (apitoken.Token, error) { return apitoken.New() }
