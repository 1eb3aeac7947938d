package service

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// A log longer than logWindow is stored as a zstd frame whose window is logWindow, not
// the library's 8 MiB, and decodes to itself.
func TestLogFrameWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var log bytes.Buffer
	for log.Len() < 3*logWindow/2 {
		fmt.Fprintf(&log, "gcc -O2 -c src/file%d.c -o obj/file%d.o -DVALUE=%d\n", r.IntN(5000), r.IntN(5000), r.Int64())
	}
	compressed, _ := compressAndParse(log.Bytes())
	var h zstd.Header
	if err := h.Decode(compressed); err != nil {
		t.Fatal(err)
	}
	if h.WindowSize == 0 || h.WindowSize > logWindow {
		t.Errorf("frame window %d bytes, want at most %d", h.WindowSize, logWindow)
	}
	back, err := decoder.DecodeAll(compressed, nil)
	if err != nil || !bytes.Equal(back, log.Bytes()) {
		t.Fatalf("round trip: %d bytes back of %d, %v", len(back), log.Len(), err)
	}
}
