package service

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
)

func TestParseMetadataValueForms(t *testing.T) {
	md, err := parseMetadata([]byte(`{
		"install_files": {"/p/x-abc/.spack": {"type": "dir", "mode": 16877, "owner": 0, "group": 0},
		                  "/p/x-abc/bin/x": {"type": "file", "mode": 33261, "owner": 0, "group": 0, "hash": "H", "size": 3}},
		"a": [{"install_file": "/p/x-abc/bin/x", "name": "text", "json_value": " [1, 2] "},
		      {"name": "object", "json_value": {"k": [true, null]}},
		      {"install_file": "bin/x", "name": "unpadded", "binary_value": "AAH/"},
		      {"install_file": "bin/x", "name": "padded", "binary_value": "AAE="}],
		"b": null
	}`))
	if err != nil {
		t.Fatal(err)
	}
	a := md.resolve("abc")
	if len(a.InstallFiles) != 2 || a.InstallFiles[1].Path != "bin/x" || *a.InstallFiles[1].Size != 3 {
		t.Errorf("install files %+v", a.InstallFiles)
	}
	got := map[string]string{}
	for _, at := range a.Attributes {
		switch {
		case at.JSONValue != nil:
			got[at.Name] = at.InstallFile + " " + *at.JSONValue
		default:
			got[at.Name] = at.InstallFile + " " + string(at.BinaryValue)
		}
	}
	want := map[string]string{"text": "bin/x [1,2]", "object": ` {"k":[true,null]}`, "unpadded": "bin/x \x00\x01\xff", "padded": "bin/x \x00\x01"}
	for k, v := range want {
		if !bytes.Equal([]byte(got[k]), []byte(v)) {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

func TestParseMetadataEmptyIsNothing(t *testing.T) {
	for _, raw := range []string{"", " "} {
		if _, err := parseMetadata([]byte(raw)); !errs.Is(err, errs.BadRequest) || !strings.Contains(err.Error(), "metadata is required") {
			t.Errorf("absent metadata %q: %v, want BadRequest", raw, err)
		}
	}
	for _, raw := range []string{"{}", `{"x": null}`} {
		md, err := parseMetadata([]byte(raw))
		if err != nil || md.manifest != nil || md.analysis.ConfigArgs != nil || md.analysis.Environment != nil || len(md.analysis.Attributes) != 0 {
			t.Errorf("%q: %+v %v", raw, md, err)
		}
	}
	for _, bad := range []string{`{"A": 1}`, `{"A": null}`, `{"A": "x", "B": null}`} {
		if _, err := parseMetadata([]byte(`{"environment_variables": ` + bad + `}`)); !errs.Is(err, errs.BadRequest) {
			t.Errorf("environment_variables %s: %v", bad, err)
		}
	}
	if md, err := parseMetadata([]byte(`{"environment_variables": {"A": "", "B": "b"}}`)); err != nil || md.analysis.Environment["B"] != "b" ||
		len(md.analysis.Environment) != 2 {
		t.Errorf("two variables: %+v %v", md.analysis.Environment, err)
	}
	md, err := parseMetadata([]byte(`{"environment_variables": {}}`))
	if err != nil || md.analysis.Environment == nil {
		t.Errorf("an empty environment must clear the build's, not be left alone: %+v %v", md, err)
	}
}
