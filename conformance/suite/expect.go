package suite

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// at walks a decoded JSON value: at(m, "data", "build", "build_id").
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// intOf is v as an integer when it is a JSON number (never a string: ids are numbers on the
// wire).
func intOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func isJSON(a *Response) bool {
	mt, _, err := mime.ParseMediaType(a.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// object decodes a JSON object answer, failing the check when it is anything else.
func (t *T) object(a *Response) map[string]any {
	v, err := a.JSON()
	if err != nil {
		t.Fatalf("answer is not JSON (%v): %s", err, a)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("answer is not a JSON object: %s", a)
	}
	return m
}

// envelope checks a success answer of a write: the status, a JSON Content-Type, and
// {"message", "data", "code"} with code equal to the status. It returns data.
func (t *T) envelope(a *Response, status int, message string) map[string]any {
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a)
	}
	if !isJSON(a) {
		t.Errorf("Content-Type %q, want application/json", a.Header.Get("Content-Type"))
	}
	m := t.object(a)
	if c, ok := intOf(m["code"]); !ok || c != int64(status) {
		t.Errorf("envelope code %v, want the number %d", m["code"], status)
	}
	msg, ok := m["message"].(string)
	if !ok {
		t.Errorf("envelope message %v is not a string", m["message"])
	}
	if message != "" && msg != message {
		t.Errorf("message %q, want %q", msg, message)
	}
	data, ok := m["data"].(map[string]any)
	if !ok {
		t.Fatalf("envelope data %v is not an object", m["data"])
	}
	return data
}

// created checks a write answered 201 or 200 (a repeat of something already stored) and
// returns its data and whether it was a 201.
func (t *T) created(a *Response) (map[string]any, bool) {
	if a.Status != http.StatusCreated && a.Status != http.StatusOK {
		t.Fatalf("status %d, want 201 or 200: %s", a.Status, a)
	}
	return t.envelope(a, a.Status, ""), a.Status == http.StatusCreated
}

// wantError checks an error answer: the status, JSON never HTML, {"message", "code"} with
// code equal to the status and a non-empty message, equal to message when that is given.
func (t *T) wantError(a *Response, status int, message string) map[string]any {
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a)
	}
	return t.errorBody(a, message)
}

func (t *T) errorBody(a *Response, message string) map[string]any {
	if !isJSON(a) {
		t.Errorf("Content-Type %q, want application/json (an error is JSON, never HTML)", a.Header.Get("Content-Type"))
	}
	m := t.object(a)
	if c, ok := intOf(m["code"]); !ok || c != int64(a.Status) {
		t.Errorf("error code %v, want the number %d", m["code"], a.Status)
	}
	msg, _ := m["message"].(string)
	switch {
	case msg == "":
		t.Errorf("error without a message: %s", a)
	case message != "" && msg != message:
		t.Errorf("message %q, want %q", msg, message)
	}
	return m
}

// bad400 checks a client mistake: a 400 with a JSON message, never a 5xx.
func (t *T) bad400(a *Response, message string) {
	t.wantError(a, http.StatusBadRequest, message)
}

func (t *T) equal(what string, got, want any) {
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
