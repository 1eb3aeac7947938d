package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// asset is one embedded file with the version its URL carries.
type asset struct {
	data    []byte
	version string
	ctype   string
}

// assetSet serves the embedded CSS, script and icons. Their URLs carry a hash of their
// content, so a browser may keep them for long and still never use a stale one.
type assetSet struct {
	files map[string]asset
}

func loadAssets() (*assetSet, error) {
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s := &assetSet{files: map[string]asset{}}
	for _, e := range entries {
		data, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(e.Name()))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		s.files[e.Name()] = asset{data: data, version: hex.EncodeToString(sum[:6]), ctype: ctype}
	}
	return s, nil
}

// url is the versioned URL of the named asset.
func (s *assetSet) url(name string) string {
	a, ok := s.files[name]
	if !ok {
		panic("ui: no asset " + name)
	}
	return "/static/" + name + "?v=" + a.version
}

func (s *assetSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := s.files[r.PathValue("name")]
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	if r.URL.Query().Get("v") == a.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}
