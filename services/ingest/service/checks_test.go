package service

import (
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/spackspec"
)

// The limits count characters, as the store's columns do, and name the field as the client
// sent it.
func TestCheckNodes(t *testing.T) {
	long := strings.Repeat("x", maxSpecValue+1)
	target := func(features ...string) *spackspec.Arch {
		return &spackspec.Arch{Platform: "linux", PlatformOS: "os", Target: spackspec.Target{Name: "t", Features: features}}
	}
	for _, c := range []struct {
		name string
		node spackspec.Node
		want string // "" for accepted
	}{
		{"plain", spackspec.Node{Name: "zlib", Version: "1.2", FullHash: "fh"}, ""},
		{"250 two-byte characters", spackspec.Node{Name: strings.Repeat("é", maxSpecValue), FullHash: "fh"}, ""},
		{"251 two-byte characters", spackspec.Node{Name: strings.Repeat("é", maxSpecValue+1), FullHash: "fh"}, "node 0: name is longer than 250 characters."},
		{"long namespace", spackspec.Node{Name: "n", Namespace: long, FullHash: "fh"}, "node 0: namespace is longer than 250 characters."},
		{"NUL in a hash", spackspec.Node{Name: "n", FullHash: "f\x00h"}, "node 0: full_hash has a NUL character."},
		{"long platform", spackspec.Node{Name: "n", FullHash: "fh", Arch: &spackspec.Arch{Platform: long}}, "node 0: arch.platform is longer than 250 characters."},
		{"features at the limit", spackspec.Node{Name: "n", FullHash: "fh", Arch: target(strings.Repeat("f", maxTargetList-4))}, ""},
		{"features over the limit", spackspec.Node{Name: "n", FullHash: "fh", Arch: target(strings.Repeat("f", maxTargetList-3))},
			"node 0: arch.target.features is longer than 65536 characters as JSON."},
		{"long compiler version", spackspec.Node{Name: "n", FullHash: "fh", Compiler: &spackspec.Compiler{Name: "gcc", Version: long}},
			"node 0: compiler.version is longer than 250 characters."},
		{"long dependency name", spackspec.Node{Name: "n", FullHash: "fh", Deps: []spackspec.Dep{{Name: "d", Ref: "r"}, {Name: long, Ref: "r"}}},
			"node 0: dependencies[1].name is longer than 250 characters."},
		{"long dependency types", spackspec.Node{Name: "n", FullHash: "fh", Deps: []spackspec.Dep{{Name: "d", Ref: "r", Types: []string{long[:200], long[:60]}}}},
			"node 0: dependencies[0].type is longer than 250 characters."},
		{"big parameters", spackspec.Node{Name: "n", FullHash: "fh", Parameters: []byte(`{"a":"` + strings.Repeat("p", maxParameters) + `"}`)},
			"node 0: parameters is longer than 1048576 characters."},
	} {
		err := checkNodes(&spackspec.Document{Nodes: []spackspec.Node{c.node}})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || err.Error() != "Invalid spec document: "+c.want):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
