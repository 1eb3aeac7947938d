package storetest

import (
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/store"
)

var concurrencyTests = []namedTest{
	{Name: "SameUser", Fn: testConcurrentSameUser},
	{Name: "Rotate", Fn: testConcurrentRotate},
	{Name: "TouchAndRevoke", Fn: testConcurrentTouchAndRevoke},
}

// Of 16 creations of one name at once, exactly one succeeds; every other one is the
// caller's error (BadRequest), never a failure of the store.
func testConcurrentSameUser(t *testing.T, st store.Store) {
	users := make([]store.User, goroutines)
	results := parallel(func(i int) error {
		var err error
		users[i], err = st.CreateUser(ctx(t), store.NewUser{Name: "alice", Admin: i%2 == 0})
		return err
	})
	var winner store.User
	won := 0
	for i, err := range results {
		switch {
		case err == nil:
			won++
			winner = users[i]
		case errs.Is(err, errs.BadRequest) && err.Error() == "User alice already exists.":
		default:
			t.Errorf("goroutine %d: %v, want success or BadRequest", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d creations succeeded, want 1", won)
	}
	got, err := st.GetUser(ctx(t), "alice")
	if err != nil || got != winner {
		t.Errorf("GetUser = %+v, %v; want %+v", got, err, winner)
	}
	if all, err := st.ListUsers(ctx(t)); err != nil || len(all) != 1 {
		t.Errorf("ListUsers = %+v, %v", all, err)
	}
}

// Concurrent rotations of one user leave exactly one active token.
func testConcurrentRotate(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	addToken(t, st, "alice")
	results := parallel(func(int) error {
		tok, err := newTokenErr()
		if err != nil {
			return err
		}
		_, err = st.RotateToken(ctx(t), "alice", tok)
		return err
	})
	for i, err := range results {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	tokens := listTokens(t, st, "alice")
	active := 0
	for _, tok := range tokens {
		if tok.Active(time.Now()) {
			active++
		}
	}
	if len(tokens) != goroutines+1 || active != 1 {
		t.Errorf("%d tokens, %d active; want %d and 1", len(tokens), active, goroutines+1)
	}
}

// Touches, revocations and look-ups of the same tokens at once all succeed.
func testConcurrentTouchAndRevoke(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	tok, added := addToken(t, st, "alice")
	results := parallel(func(i int) error {
		switch i % 4 {
		case 0:
			return st.RevokeToken(ctx(t), added.ID)
		case 1:
			_, _, err := st.FindToken(ctx(t), tok.Prefix())
			return err
		case 2:
			_, err := st.RevokeUserTokens(ctx(t), "alice")
			return err
		default:
			return st.TouchToken(ctx(t), added.ID)
		}
	})
	for i, err := range results {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	found, _ := findToken(t, st, tok.Prefix())
	if !found.Revoked() || found.LastUsedAt.IsZero() {
		t.Errorf("after the storm the token is %+v", found)
	}
}

func newTokenErr() (store.NewToken, error) {
	tok, err := newAPIToken()
	if err != nil {
		return store.NewToken{}, err
	}
	return storeToken(tok), nil
}
