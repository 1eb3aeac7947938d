package suite

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleTree() *Node {
	root := &Node{Name: "conformance"}
	g := root.Group("transport")
	g.Children = append(g.Children, &Node{Name: "passes", Status: Pass, Duration: 1500 * time.Millisecond})
	inner := g.Group("inner")
	inner.Children = append(inner.Children,
		&Node{Name: "fails", Status: Fail, Messages: []string{"status 500, want 400", "second\nline"},
			Exchanges: []Exchange{{Method: "POST", URL: "http://x/ms1/specs/new/", RequestHeader: map[string][]string{"Authorization": {"Bearer <redacted>"}},
				RequestBody: []byte(`{"a":1}`), Status: 500, Header: map[string][]string{"Content-Type": {"text/html"}}, Body: []byte("<html>")}}},
		&Node{Name: "is skipped", Status: Skip, Messages: []string{"no second user"}})
	root.Group("empty")
	return root
}

func TestTree(t *testing.T) {
	var b bytes.Buffer
	if err := sampleTree().WriteTree(&b); err != nil {
		t.Fatal(err)
	}
	want := `transport (1 passed, 1 failed, 1 skipped)
  PASS  passes
  inner (0 passed, 1 failed, 1 skipped)
    FAIL  fails
            status 500, want 400
            second
            line
    SKIP  is skipped
            no second user
empty (0 passed, 0 failed, 0 skipped)
1 skipped
1 passed, 1 failed
`
	if b.String() != want {
		t.Errorf("tree:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestJUnitAndTranscripts(t *testing.T) {
	tree := sampleTree()
	dir := t.TempDir()
	if err := tree.WriteTranscripts(dir); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("transcripts %v, want one for the one failure", files)
	}
	text, _ := os.ReadFile(files[0])
	for _, want := range []string{"check: transport / inner / fails", "POST http://x/ms1/specs/new/", "Authorization: Bearer <redacted>", "--- response\n500", "<html>"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
	var b bytes.Buffer
	if err := tree.WriteJUnit(&b, "spackmon-conformance"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				ClassName string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.Tests != 3 || got.Failures != 1 || got.Skipped != 1 || len(got.Suites) != 2 || got.Suites[0].Name != "transport" {
		t.Fatalf("junit %+v", got)
	}
	cases := got.Suites[0].Cases
	if len(cases) != 3 || cases[0].ClassName != "transport" || cases[0].Time != "1.500" || cases[1].ClassName != "transport.inner" {
		t.Errorf("cases %+v", cases)
	}
	if f := cases[1].Failure; f == nil || f.Message != "status 500, want 400" || !strings.Contains(f.Text, "second\nline") ||
		!strings.Contains(cases[1].SystemOut, files[0]) {
		t.Errorf("failure %+v %q", f, cases[1].SystemOut)
	}
	if s := cases[2].Skipped; s == nil || s.Message != "no second user" {
		t.Errorf("skipped %+v", s)
	}
}

// A server that answers everything 200 {} must fail most of the suite: the suite can fail.
func TestEverything200Fails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	tree := Run(context.Background(), Config{URL: srv.URL, User: "u", Token: "t0ken-one", User2: "v", Token2: "t0ken-two", Timeout: 5 * time.Second})
	passed, failed, _ := tree.Counts()
	if failed < 20 || passed > 10 {
		var b bytes.Buffer
		_ = tree.WriteTree(&b)
		t.Errorf("%d passed, %d failed against a server that answers 200 {}:\n%s", passed, failed, b.String())
	}
	tree.walk(nil, func(_ []string, c *Node) {
		for _, m := range c.Messages {
			if strings.HasPrefix(m, "panic:") {
				t.Errorf("%s: %s", c.Name, m)
			}
		}
	})
}

const (
	secretAPIToken = "smt_conformance_secret_api_token"
	issuedJWT      = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
)

// sloppyRealm does the auth dance right and everything else wrong, echoing what it was
// sent: the transcripts of its failures must not show any credential.
func sloppyRealm(t *testing.T) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		auth := r.Header.Get("Authorization")
		switch {
		case strings.HasPrefix(r.URL.Path, "/auth/token"):
			if auth != "Basic "+base64.StdEncoding.EncodeToString([]byte("u:"+secretAPIToken)) {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"message": "no", "code": 401, "you_sent": "`+auth+`"}`)
				return
			}
			_, _ = io.WriteString(w, `{"token": "`+issuedJWT+`", "access_token": "`+issuedJWT+`", "expires_in": 60, "issued_at": "2026-01-01T00:00:00Z"}`)
		case r.Method == http.MethodPost && auth == "":
			w.Header().Set("Www-Authenticate", `Bearer realm="`+srv.URL+`/auth/token/",service="`+srv.URL+`",scope="build"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"message": "auth", "code": 401}`)
		default:
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, `{"authorization": "`+auth+`", "token": "`+secretAPIToken+`"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTranscriptsAreRedacted(t *testing.T) {
	srv := sloppyRealm(t)
	tree := Run(context.Background(), Config{URL: srv.URL, User: "u", Token: secretAPIToken, Timeout: 5 * time.Second})
	if _, failed, _ := tree.Counts(); failed < 20 {
		t.Errorf("only %d failures against a server that answers 418", failed)
	}
	dir := t.TempDir()
	if err := tree.WriteTranscripts(dir); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	basic := base64.StdEncoding.EncodeToString([]byte("u:" + secretAPIToken))
	sawBearer := false
	for _, f := range files {
		text, _ := os.ReadFile(f)
		for _, secret := range []string{secretAPIToken, issuedJWT, basic, "c2lnbmF0dXJl"} {
			if strings.Contains(string(text), secret) {
				t.Errorf("%s shows %q", f, secret)
			}
		}
		sawBearer = sawBearer || strings.Contains(string(text), "Authorization: Bearer <redacted>")
	}
	if !sawBearer {
		t.Error("no transcript shows a redacted bearer: the dance did not happen")
	}
}
