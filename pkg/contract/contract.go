// Package contract runs a service's store contract suite: groups of tests, each test on a
// store of its own, all in parallel, so that one suite serves every implementation.
package contract

import (
	"context"
	"io"
	"testing"
	"time"
)

// Test is one case of a suite.
type Test[S any] struct {
	Name string
	Fn   func(t *testing.T, st S)
}

// Group is a named list of cases.
type Group[S any] struct {
	Name  string
	Tests []Test[S]
}

// Run runs every group as a subtest, each case on a fresh store from open, closed after it.
func Run[S io.Closer](t *testing.T, open func(t *testing.T) S, groups ...Group[S]) {
	for _, g := range groups {
		t.Run(g.Name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.Tests {
				t.Run(tc.Name, func(t *testing.T) {
					t.Parallel()
					st := open(t)
					t.Cleanup(func() { _ = st.Close() })
					tc.Fn(t, st)
				})
			}
		})
	}
}

// Context bounds a case's store calls, so that a hung database fails the test instead of
// stalling the run.
func Context(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
