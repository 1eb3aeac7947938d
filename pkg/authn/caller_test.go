package authn

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
)

func TestCaller(t *testing.T) {
	for name, ctx := range map[string]context.Context{
		"no identity":  context.Background(),
		"without name": WithIdentity(context.Background(), Identity{UserID: 3}),
	} {
		if id, err := Caller(ctx); !errs.Is(err, errs.Unauthenticated) || id != (Identity{}) {
			t.Errorf("%s: Caller = %+v, %v; want Unauthenticated", name, id, err)
		}
	}
	want := Identity{Name: "vsoch", UserID: 3, Admin: true}
	if id, err := Caller(WithIdentity(context.Background(), want)); err != nil || id != want {
		t.Errorf("Caller = %+v, %v; want %+v", id, err, want)
	}
}
