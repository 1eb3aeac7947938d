package ui

import "testing"

// After a login the browser goes only to a path of this site: anything a browser would
// read as another host, or as a scheme, becomes /.
func TestLocalPath(t *testing.T) {
	for next, want := range map[string]string{
		"/token":                 "/token",
		"/?status=FAILED&tag=x":  "/?status=FAILED&tag=x",
		"/builds/1#L12":          "/builds/1#L12",
		"":                       "/",
		"token":                  "/",
		"//evil.example":         "/",
		"//evil.example/path":    "/",
		"/\\evil.example":        "/",
		"\\\\evil.example":       "/",
		"/\t/evil.example":       "/",
		"/\n/evil.example":       "/",
		"https://evil.example/":  "/",
		"http:/evil.example":     "/",
		"javascript:alert(1)":    "/",
		"/%2F%2Fevil.example":    "/",
		"/a/../..//evil.example": "/a/../..//evil.example",
	} {
		if got := localPath(next); got != want {
			t.Errorf("localPath(%q) = %q, want %q", next, got, want)
		}
	}
}
