package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// The service validates requests; these are the store's own guarantees about its limits.
var validationTests = []namedTest{
	{Name: "LongestPathFits", Fn: testLongestPath},
	{Name: "SchemaRefusalWritesNothing", Fn: testSchemaRefusal},
	{Name: "Ping", Fn: testPing},
}

// The longest path the service takes fits the store's indexes, even when it does not
// compress, with the longest analyzer and name beside it.
func testLongestPath(t *testing.T, st store.Store) {
	raw := make([]byte, store.MaxPathLength*3/4)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	long := base64.RawURLEncoding.EncodeToString(raw)[:store.MaxPathLength]
	record(t, st, 1, store.Analysis{
		InstallFiles: []store.InstallFile{{Path: long, Type: "file"}},
		Attributes: []store.Attribute{{InstallFile: long, Analyzer: strings.Repeat("é", store.MaxAttrNameLength/2),
			Name: strings.Repeat("ü", store.MaxAttrNameLength/2), Value: ptr("v")}},
	})
	files, err := st.ListInstallFiles(ctx(t), store.InstallFileQuery{BuildID: 1})
	if err != nil || len(files) != 1 || files[0].Path != long {
		t.Fatalf("read back: %v %v", files, err)
	}
}

// A value over a limit of the schema, from a caller that skipped the service's validation,
// is errs.BadRequest and writes nothing of its request, not even the valid parts.
func testSchemaRefusal(t *testing.T, st store.Store) {
	for _, c := range []struct {
		name string
		a    store.Analysis
	}{
		{"long type", store.Analysis{ConfigArgs: ptr("x"), InstallFiles: []store.InstallFile{
			{Path: "bin/ok", Type: "file"}, {Path: "a", Type: strings.Repeat("t", store.MaxTypeLength+1)}}}},
		{"long analyzer", store.Analysis{ConfigArgs: ptr("x"), InstallFiles: []store.InstallFile{{Path: "bin/ok", Type: "file"}},
			Attributes: []store.Attribute{{InstallFile: "bin/ok", Analyzer: strings.Repeat("a", store.MaxAttrNameLength+1), Name: "n", Value: ptr("v")}}}},
		{"empty variable name", store.Analysis{ConfigArgs: ptr("x"), Environment: map[string]string{"": "x"}}},
	} {
		_, err := st.Record(ctx(t), 1, c.a)
		wantErr(t, c.name, err, errs.BadRequest, "")
	}
	if files := allFiles(t, st, store.InstallFileQuery{BuildID: 1}); len(files) != 0 {
		t.Errorf("refused records wrote %s", show2(files))
	}
	if _, ok, _ := st.GetConfigArgs(ctx(t), 1); ok {
		t.Error("refused records wrote configure arguments")
	}
}

func testPing(t *testing.T, st store.Store) {
	if err := st.Ping(ctx(t)); err != nil {
		t.Errorf("Ping = %v", err)
	}
}
