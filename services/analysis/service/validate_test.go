package service

import (
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/analysis/store"
)

func ptr[T any](v T) *T { return &v }

func wantBadRequest(t *testing.T, what string, err error, message string) {
	t.Helper()
	if !errs.Is(err, errs.BadRequest) {
		t.Errorf("%s = %v, want %s", what, err, errs.BadRequest)
		return
	}
	if message != "" && err.Error() != message {
		t.Errorf("%s message = %q, want %q", what, err.Error(), message)
	}
}

// Each bad analysis is refused with a message that names what is wrong.
func TestValidateAnalysisRefuses(t *testing.T) {
	good := store.InstallFile{Path: "bin/ok", Type: "file"}
	attr := func(mod func(*store.Attribute)) store.Analysis {
		a := store.Attribute{InstallFile: "bin/ok", Analyzer: "an", Name: "n", Value: ptr("v")}
		mod(&a)
		return store.Analysis{ConfigArgs: ptr("x"), InstallFiles: []store.InstallFile{good}, Attributes: []store.Attribute{a}}
	}
	file := func(f store.InstallFile) store.Analysis {
		return store.Analysis{ConfigArgs: ptr("x"), InstallFiles: []store.InstallFile{good, f}}
	}
	for _, c := range []struct {
		name    string
		a       store.Analysis
		message string
	}{
		{"absolute path", file(store.InstallFile{Path: "/opt/spack/bin/tar"}), "An install file path must be relative to the install prefix: /opt/spack/bin/tar"},
		{"empty path", file(store.InstallFile{Path: ""}), "An install file path cannot be empty."},
		{"long path", file(store.InstallFile{Path: strings.Repeat("a/", 513)}), "An install file path is longer than 1024 bytes."},
		{"NUL in path", file(store.InstallFile{Path: "a\x00b"}), "An install file path contains a NUL character."},
		{"invalid UTF-8", file(store.InstallFile{Path: "a\xffb"}), "An install file path is not valid UTF-8."},
		{"long type", file(store.InstallFile{Path: "a", Type: strings.Repeat("t", 26)}), "The type of install file a is longer than 25 bytes."},
		{"negative mode", file(store.InstallFile{Path: "a", Mode: ptr[int64](-1)}), "Install file a: mode, owner, group and size cannot be negative."},
		{"no value", attr(func(a *store.Attribute) { a.Value = nil }), "Attribute n of analyzer an has no value."},
		{"bad JSON", attr(func(a *store.Attribute) { a.Value, a.JSONValue = nil, ptr("{not json") }), "The JSON value of attribute n is not valid JSON."},
		{"no analyzer", attr(func(a *store.Attribute) { a.Analyzer = "" }), "An analyzer name cannot be empty."},
		{"long name", attr(func(a *store.Attribute) { a.Name = strings.Repeat("n", 151) }), "An attribute name is longer than 150 bytes."},
		{"absolute attribute file", attr(func(a *store.Attribute) { a.InstallFile = "/lib/x" }), "An attribute's install file must be relative to the install prefix: /lib/x"},
		{"NUL in value", attr(func(a *store.Attribute) { a.Value = ptr("a\x00") }), "The value of attribute n contains a NUL character."},
		{"long binary value", attr(func(a *store.Attribute) { a.BinaryValue = make([]byte, store.MaxValueBytes+1) }), "The binary value of attribute n is longer than 67108864 bytes."},
		{"empty variable name", store.Analysis{Environment: map[string]string{"": "x"}}, "An environment variable name cannot be empty."},
		{"long variable value", store.Analysis{Environment: map[string]string{"SPACK_X": strings.Repeat("v", 128<<10+1)}}, "The value of environment variable SPACK_X is longer than 131072 bytes."},
		{"NUL in config args", store.Analysis{ConfigArgs: ptr("a\x00")}, "Configure arguments contains a NUL character."},
		{"too many files", store.Analysis{InstallFiles: make([]store.InstallFile, maxInstallFiles+1)}, "At most 500000 install files can be recorded at once."},
	} {
		wantBadRequest(t, c.name, validateAnalysis(c.a), c.message)
	}
}

// What the tables can hold at their limits passes, as does an analysis that changes nothing.
func TestValidateAnalysisAccepts(t *testing.T) {
	for _, a := range []store.Analysis{
		{},
		{Environment: map[string]string{}},
		{ConfigArgs: ptr(""), InstallFiles: []store.InstallFile{{Path: strings.Repeat("p", store.MaxPathLength), Type: strings.Repeat("t", store.MaxTypeLength)}}},
		{Attributes: []store.Attribute{{Analyzer: strings.Repeat("a", store.MaxAttrNameLength), Name: "n", JSONValue: ptr(`{"k": [1]}`)}}},
		{Attributes: []store.Attribute{{InstallFile: ".", Analyzer: "a", Name: "n", BinaryValue: []byte{}}}},
	} {
		if err := validateAnalysis(a); err != nil {
			t.Errorf("validateAnalysis(%+v) = %v", a, err)
		}
	}
}

func TestValidateQueries(t *testing.T) {
	wantBadRequest(t, "invalid prefix", validateInstallFileQuery(store.InstallFileQuery{BuildID: 1, PathPrefix: "\xff"}), "The path prefix is not valid UTF-8.")
	wantBadRequest(t, "long type", validateInstallFileQuery(store.InstallFileQuery{BuildID: 1, Type: strings.Repeat("t", 26)}), "The type is longer than 25 bytes.")
	wantBadRequest(t, "NUL in analyzer", validateAttributeQuery(store.AttributeQuery{Analyzer: "a\x00"}), "The analyzer contains a NUL character.")
	wantBadRequest(t, "too many builds", validateAttributeQuery(store.AttributeQuery{BuildIDs: make([]int64, maxBuildIDs+1)}), "")
	if err := validateInstallFileQuery(store.InstallFileQuery{BuildID: 1, Type: "file", PathPrefix: "bin/", After: "bin/a"}); err != nil {
		t.Errorf("a valid install file query: %v", err)
	}
	if err := validateAttributeQuery(store.AttributeQuery{BuildIDs: []int64{1, 2}, Analyzer: "libabigail", Name: "x"}); err != nil {
		t.Errorf("a valid attribute query: %v", err)
	}
}
