package cdash

import (
	"compress/zlib"
	"encoding/base64"
	"io"
)

func newZlib(w io.Writer) *zlib.Writer { return zlib.NewWriter(w) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
