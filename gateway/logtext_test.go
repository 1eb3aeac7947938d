package gateway

import (
	"bytes"
	"encoding/json"
	"testing"
)

// logText decodes every JSON string exactly as encoding/json does.
func FuzzLogText(f *testing.F) {
	for _, s := range []string{
		`plain`, `line\nline\ttab \"quoted\" \\ back \/ slash`, `\u00e9\u20ac\ud83d\ude00`,
		`lone \ud83d surrogate`, `\ud83d\u0041 bad pair`, `\udc00 low first`, "raw \xff byte", "é€😀",
		`\b\f\r`, `\uD83D\uDE00 upper hex`, `end \ud83d`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, inside []byte) {
		raw := append(append([]byte{'"'}, inside...), '"')
		if !json.Valid(raw) {
			return
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		var got logText
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if !got.set || !bytes.Equal(got.data, []byte(want)) {
			t.Fatalf("%q: got %q, want %q", raw, got.data, want)
		}
	})
}

func TestLogTextNullAndOthers(t *testing.T) {
	var body struct {
		Output logText `json:"output"`
	}
	if err := json.Unmarshal([]byte(`{"output": null}`), &body); err != nil || body.Output.set {
		t.Errorf("null: %+v %v", body.Output, err)
	}
	if err := json.Unmarshal([]byte(`{}`), &body); err != nil || body.Output.set {
		t.Errorf("absent: %+v %v", body.Output, err)
	}
	if err := json.Unmarshal([]byte(`{"output": ""}`), &body); err != nil || !body.Output.set || len(body.Output.data) != 0 {
		t.Errorf("empty: %+v %v", body.Output, err)
	}
	for _, bad := range []string{`{"output": 5}`, `{"output": ["x"]}`, `{"output": {}}`, `{"output": true}`} {
		if err := json.Unmarshal([]byte(bad), &body); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
