package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/analysis/store"
	"github.com/spackmon/spackmon/services/analysis/store/internal/check"
)

var validationTests = []namedTest{
	{Name: "LongestPathFits", Fn: testLongestPath},
	{Name: "BadRecordsRefusedWhole", Fn: testBadRecords},
	{Name: "BadQueries", Fn: testBadQueries},
}

// The longest path the store takes fits its indexes, even when it does not compress, with the
// longest analyzer and name beside it.
func testLongestPath(t *testing.T, st store.Store) {
	raw := make([]byte, check.MaxPathLength*3/4)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	long := base64.RawURLEncoding.EncodeToString(raw)[:check.MaxPathLength]
	record(t, st, 1, store.Analysis{
		InstallFiles: []store.InstallFile{{Path: long, Type: "file"}},
		Attributes: []store.Attribute{{InstallFile: long, Analyzer: strings.Repeat("é", check.MaxAttrNameLength/2),
			Name: strings.Repeat("ü", check.MaxAttrNameLength/2), Value: ptr("v")}},
	})
	files, err := st.ListInstallFiles(ctx(t), store.InstallFileQuery{BuildID: 1})
	if err != nil || len(files) != 1 || files[0].Path != long {
		t.Fatalf("read back: %v %v", files, err)
	}
}

// Each bad request is errs.BadRequest and writes nothing, not even its valid parts.
func testBadRecords(t *testing.T, st store.Store) {
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
		build   int64
		a       store.Analysis
		message string
	}{
		{"build id 0", 0, store.Analysis{ConfigArgs: ptr("x")}, "A build id is a positive number."},
		{"absolute path", 1, file(store.InstallFile{Path: "/opt/spack/bin/tar"}), "An install file path must be relative to the install prefix: /opt/spack/bin/tar"},
		{"empty path", 1, file(store.InstallFile{Path: ""}), "An install file path cannot be empty."},
		{"long path", 1, file(store.InstallFile{Path: strings.Repeat("a/", 513)}), "An install file path is longer than 1024 bytes."},
		{"NUL in path", 1, file(store.InstallFile{Path: "a\x00b"}), "An install file path contains a NUL character."},
		{"invalid UTF-8", 1, file(store.InstallFile{Path: "a\xffb"}), "An install file path is not valid UTF-8."},
		{"long type", 1, file(store.InstallFile{Path: "a", Type: strings.Repeat("t", 26)}), "The type of install file a is longer than 25 bytes."},
		{"negative mode", 1, file(store.InstallFile{Path: "a", Mode: ptr[int64](-1)}), ""},
		{"no value", 1, attr(func(a *store.Attribute) { a.Value = nil }), "Attribute n of analyzer an has no value."},
		{"bad JSON", 1, attr(func(a *store.Attribute) { a.Value, a.JSONValue = nil, ptr("{not json") }), "The JSON value of attribute n is not valid JSON."},
		{"no analyzer", 1, attr(func(a *store.Attribute) { a.Analyzer = "" }), "An analyzer name cannot be empty."},
		{"long name", 1, attr(func(a *store.Attribute) { a.Name = strings.Repeat("n", 151) }), "An attribute name is longer than 150 bytes."},
		{"absolute attribute file", 1, attr(func(a *store.Attribute) { a.InstallFile = "/lib/x" }), ""},
		{"NUL in value", 1, attr(func(a *store.Attribute) { a.Value = ptr("a\x00") }), "The value of attribute n contains a NUL character."},
		{"empty variable name", 1, store.Analysis{Environment: map[string]string{"": "x"}}, "An environment variable name cannot be empty."},
		{"long variable value", 1, store.Analysis{Environment: map[string]string{"SPACK_X": strings.Repeat("v", 128<<10+1)}}, ""},
		{"NUL in config args", 1, store.Analysis{ConfigArgs: ptr("a\x00")}, "Configure arguments contains a NUL character."},
	} {
		_, err := st.Record(ctx(t), c.build, c.a)
		wantErr(t, c.name, err, errs.BadRequest, c.message)
	}
	if files := allFiles(t, st, store.InstallFileQuery{BuildID: 1}); len(files) != 0 {
		t.Errorf("refused records wrote %s", show2(files))
	}
	if _, ok, _ := st.GetConfigArgs(ctx(t), 1); ok {
		t.Error("refused records wrote configure arguments")
	}
}

func testBadQueries(t *testing.T, st store.Store) {
	_, err := st.ListInstallFiles(ctx(t), store.InstallFileQuery{})
	wantErr(t, "ListInstallFiles(build 0)", err, errs.BadRequest, "")
	_, err = st.ListInstallFiles(ctx(t), store.InstallFileQuery{BuildID: 1, PathPrefix: "\xff"})
	wantErr(t, "ListInstallFiles(invalid prefix)", err, errs.BadRequest, "")
	_, err = st.ListAttributes(ctx(t), store.AttributeQuery{BuildIDs: []int64{1, -2}})
	wantErr(t, "ListAttributes(build -2)", err, errs.BadRequest, "")
	_, err = st.GetEnvironment(ctx(t), -1)
	wantErr(t, "GetEnvironment(-1)", err, errs.BadRequest, "")
	_, _, err = st.GetConfigArgs(ctx(t), 0)
	wantErr(t, "GetConfigArgs(0)", err, errs.BadRequest, "")
	if err := st.Ping(ctx(t)); err != nil {
		t.Errorf("Ping = %v", err)
	}
}
