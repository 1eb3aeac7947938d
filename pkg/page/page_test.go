package page

import (
	"math"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
)

func TestSize(t *testing.T) {
	for n, want := range map[int]int{math.MinInt: DefaultSize, -1: DefaultSize, 0: DefaultSize, 1: 1,
		MaxSize - 1: MaxSize - 1, MaxSize: MaxSize, MaxSize + 1: MaxSize, math.MaxInt: MaxSize} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %d, want %d", n, got, want)
		}
	}
	for n, want := range map[int32]int{math.MinInt32: DefaultSize, 0: DefaultSize, 7: 7, math.MaxInt32: MaxSize} {
		if got := Size(n); got != want {
			t.Errorf("Size(int32 %d) = %d, want %d", n, got, want)
		}
	}
}

func TestIDTokenRoundTrip(t *testing.T) {
	for _, id := range []int64{1, 42, math.MaxInt64} {
		got, err := AfterID(IDToken(id))
		if err != nil || got != id {
			t.Errorf("AfterID(IDToken(%d)) = %d, %v", id, got, err)
		}
	}
	if got, err := AfterID(""); got != 0 || err != nil {
		t.Errorf(`AfterID("") = %d, %v; want the first page`, got, err)
	}
}

func TestInvalidTokens(t *testing.T) {
	for _, tok := range []string{"!!", "MA" /* "0" */, "LTE" /* "-1" */, Token("x"), Token("9223372036854775808"), "MTA="} {
		_, err := AfterID(tok)
		if !errs.Is(err, errs.BadRequest) || err.Error() != "Invalid page_token." {
			t.Errorf("AfterID(%q) = %v, want Invalid page_token.", tok, err)
		}
	}
	if _, err := After("not base64!"); !errs.Is(err, errs.BadRequest) {
		t.Errorf("After(not base64) = %v, want BadRequest", err)
	}
	if text, err := After(Token("bin/tar")); text != "bin/tar" || err != nil {
		t.Errorf("After(Token(bin/tar)) = %q, %v", text, err)
	}
}
