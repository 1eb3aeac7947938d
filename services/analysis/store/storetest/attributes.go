package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/analysis/store"
)

var attributeTests = []namedTest{
	{Name: "RerecordReplacesValue", Fn: testRerecordReplaces},
	{Name: "ValueKindsRoundTrip", Fn: testValueKinds},
	{Name: "AttributeFileJoinsInstallFiles", Fn: testAttributeFile},
	{Name: "UnknownAttributeNotFound", Fn: testUnknownAttribute},
	{Name: "ListPreviewsValues", Fn: testPreviews},
}

// ListAttributes gives the start of each text or JSON value, one character past the
// preview length so that a cut can be told, and marks binary values.
func testPreviews(t *testing.T, st store.Store) {
	long := strings.Repeat("é", store.PreviewLength+50)
	record(t, st, 1, store.Analysis{Attributes: []store.Attribute{
		{Analyzer: "a", Name: "text", Value: ptr(long)},
		{Analyzer: "a", Name: "json", JSONValue: ptr(`{"k": 1}`)},
		{Analyzer: "a", Name: "bin", BinaryValue: []byte{0, 1}},
	}})
	got := map[string]store.AttributeRef{}
	for _, r := range listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{1}}) {
		got[r.Name] = r
	}
	if p := got["text"].Preview; p != strings.Repeat("é", store.PreviewLength+1) || got["text"].Binary {
		t.Errorf("text preview %d characters %q", len([]rune(p)), p)
	}
	if got["json"].Preview != `{"k": 1}` || got["json"].Binary {
		t.Errorf("json preview %+v", got["json"])
	}
	if got["bin"].Preview != "" || !got["bin"].Binary {
		t.Errorf("binary preview %+v", got["bin"])
	}
}

// Re-running an analyzer with different output replaces the attribute (upstream: 500).
func testRerecordReplaces(t *testing.T, st store.Store) {
	a := store.Attribute{InstallFile: "lib/libz.so.1.2.11", Analyzer: "libabigail", Name: "abidw-xml", Value: ptr("<abi-corpus v1/>")}
	record(t, st, 1, store.Analysis{Attributes: []store.Attribute{a}})
	refs := listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{1}})
	if len(refs) != 1 {
		t.Fatalf("attributes = %+v", refs)
	}
	want := store.AttributeRef{ID: refs[0].ID, BuildID: 1, InstallFile: "lib/libz.so.1.2.11", Analyzer: "libabigail", Name: "abidw-xml", Preview: "<abi-corpus v1/>"}
	if refs[0] != want {
		t.Errorf("ref = %+v, want %+v", refs[0], want)
	}
	// A value of another kind replaces all three columns: the old text does not linger.
	a.Value, a.JSONValue = nil, ptr(`{"corpus": 2}`)
	if sum := record(t, st, 1, store.Analysis{Attributes: []store.Attribute{a}}); sum.Attributes != 1 {
		t.Errorf("Summary.Attributes = %d", sum.Attributes)
	}
	got := getAttribute(t, st, refs[0].ID)
	if got.Value != nil || got.JSONValue == nil || *got.JSONValue != `{"corpus": 2}` || got.BinaryValue != nil {
		t.Errorf("after re-record: %s", showAttr(got))
	}
	if refs := listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{1}}); len(refs) != 1 || refs[0].ID != want.ID {
		t.Errorf("after re-record the attributes are %+v, want the one row %d", refs, want.ID)
	}
	// The same name for another file, analyzer, or build is another attribute.
	b := a
	b.InstallFile = "lib/libz.a"
	c := a
	c.Analyzer = "other"
	record(t, st, 1, store.Analysis{Attributes: []store.Attribute{b, c}})
	record(t, st, 2, store.Analysis{Attributes: []store.Attribute{a}})
	if n := len(listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{1, 2}})); n != 4 {
		t.Errorf("%d attributes, want 4", n)
	}
	// Given twice in one request, the last one wins.
	a1, a2 := a, a
	a1.JSONValue, a2.JSONValue = ptr(`1`), ptr(`2`)
	record(t, st, 1, store.Analysis{Attributes: []store.Attribute{a1, a2}})
	if got := getAttribute(t, st, want.ID); got.JSONValue == nil || *got.JSONValue != "2" {
		t.Errorf("after a duplicate: %s", showAttr(got))
	}
}

func showAttr(a store.Attribute) string {
	s := func(p *string) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%q", *p)
	}
	return fmt.Sprintf("{id %d build %d file %q %s/%s value %s binary %v json %s}",
		a.ID, a.BuildID, a.InstallFile, a.Analyzer, a.Name, s(a.Value), a.BinaryValue, s(a.JSONValue))
}

// Text, binary (every byte value, NULs included) and JSON values come back as stored,
// and an attribute of the whole build has no install file.
func testValueKinds(t *testing.T, st store.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	long := bytes.Repeat([]byte("symbolator "), 100_000)
	in := []store.Attribute{
		{InstallFile: "bin/tar", Analyzer: "symbolator", Name: "symbolator-json", JSONValue: ptr(`{"library": "tar", "symbols": [{"name": "main", "type": "FUNC"}], "u": "é\u00e9"}`)},
		{InstallFile: "bin/tar", Analyzer: "raw", Name: "bytes", BinaryValue: all},
		{InstallFile: "bin/tar", Analyzer: "raw", Name: "empty-bytes", BinaryValue: []byte{}},
		{InstallFile: "bin/tar", Analyzer: "raw", Name: "long", Value: ptr(string(long))},
		{InstallFile: "bin/tar", Analyzer: "raw", Name: "empty-text", Value: ptr("")},
		{Analyzer: "build", Name: "summary", Value: ptr("whole build"), JSONValue: ptr(`"also json"`)},
	}
	record(t, st, 7, store.Analysis{Attributes: in})
	refs := listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{7}})
	if len(refs) != len(in) {
		t.Fatalf("%d attributes, want %d", len(refs), len(in))
	}
	byName := map[string]store.Attribute{}
	for _, r := range refs {
		a := getAttribute(t, st, r.ID)
		if a.ID != r.ID || a.BuildID != 7 || a.InstallFile != r.InstallFile || a.Analyzer != r.Analyzer || a.Name != r.Name {
			t.Errorf("GetAttribute(%d) = %s, listed as %+v", r.ID, showAttr(a), r)
		}
		byName[a.Name] = a
	}
	for _, w := range in {
		g := byName[w.Name]
		if !eqStr(g.Value, w.Value) || !eqStr(g.JSONValue, w.JSONValue) || (g.BinaryValue == nil) != (w.BinaryValue == nil) ||
			!bytes.Equal(g.BinaryValue, w.BinaryValue) || g.InstallFile != w.InstallFile {
			t.Errorf("%s = %.200s, want %.200s", w.Name, showAttr(g), showAttr(w))
		}
	}
}

func eqStr(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// An attribute's file becomes an install file of the build, with its metadata unknown
// until a manifest gives it; a manifest's file keeps its metadata when an attribute names
// it later. An attribute of the whole build makes no file.
func testAttributeFile(t *testing.T, st store.Store) {
	record(t, st, 1, store.Analysis{
		InstallFiles: []store.InstallFile{{Path: "bin/tar", Type: "file", Mode: ptr[int64](33261), Hash: "H"}},
		Attributes: []store.Attribute{
			{InstallFile: "lib/libz.so", Analyzer: "libabigail", Name: "abidw-xml", Value: ptr("<x/>")},
			{InstallFile: "bin/tar", Analyzer: "libabigail", Name: "abidw-xml", Value: ptr("<y/>")},
			{Analyzer: "build", Name: "note", Value: ptr("n")},
		},
	})
	files := allFiles(t, st, store.InstallFileQuery{BuildID: 1})
	want := []store.InstallFile{{Path: "bin/tar", Type: "file", Mode: ptr[int64](33261), Hash: "H"}, {Path: "lib/libz.so"}}
	if show2(files) != show2(want) {
		t.Errorf("install files = %s, want %s", show2(files), show2(want))
	}
	record(t, st, 1, store.Analysis{InstallFiles: []store.InstallFile{{Path: "lib/libz.so", Type: "file", Mode: ptr[int64](33188)}}})
	if files := allFiles(t, st, store.InstallFileQuery{BuildID: 1, PathPrefix: "lib/"}); len(files) != 1 || files[0].Type != "file" || *files[0].Mode != 33188 {
		t.Errorf("lib/libz.so after the manifest = %s", show2(files))
	}
	if refs := listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{1}, Analyzer: "libabigail"}); len(refs) != 2 {
		t.Errorf("libabigail attributes = %+v", refs)
	}
}

func testUnknownAttribute(t *testing.T, st store.Store) {
	_, err := st.GetAttribute(ctx(t), 12345)
	wantErr(t, "GetAttribute(12345)", err, errs.NotFound, "Attribute 12345 does not exist.")
	_, err = st.GetAttribute(ctx(t), 0)
	wantErr(t, "GetAttribute(0)", err, errs.NotFound, "")
}
