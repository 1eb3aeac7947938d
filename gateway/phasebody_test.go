package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"google.golang.org/grpc/status"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// streamed decodes a phase update body as servePhaseUpdate does, gathering the chunks.
func streamed(data []byte, oneByte bool) (*ingestv1.UpdatePhaseRequest, error) {
	var r = bytes.NewReader(data)
	var out []byte
	chunks, oversized := 0, 0
	src := any(r)
	if oneByte {
		src = iotest.OneByteReader(r)
	}
	body := newPhaseBody(src.(interface{ Read([]byte) (int, error) }), func(chunk []byte, reset bool) {
		if reset {
			out = out[:0]
		}
		out = append(out, chunk...)
		chunks++
		if len(chunk) > outputChunkBytes {
			oversized = len(chunk)
		}
	})
	phase, err := body.phase()
	if err != nil {
		return nil, err
	}
	if oversized > 0 {
		return nil, fmt.Errorf("a chunk of %d bytes, more than outputChunkBytes", oversized)
	}
	m := &ingestv1.UpdatePhaseRequest{BuildId: phase.GetBuildId(), PhaseName: phase.GetPhaseName(), Status: phase.GetStatus()}
	if !phase.GetOutputNull() {
		m.Output = append([]byte{}, out...)
	}
	return m, nil
}

// checkSame fails when the streamed decoding of data differs from the whole body's.
func checkSame(t *testing.T, data []byte) {
	t.Helper()
	var want ingestv1.UpdatePhaseRequest
	wantErr := newCodec().decode(data, &want)
	for _, oneByte := range []bool{false, true} {
		got, err := streamed(data, oneByte)
		switch {
		case wantErr != nil && err == nil:
			t.Fatalf("%q: streamed accepted what the codec refuses: %v", data, wantErr)
		case wantErr == nil && err != nil:
			t.Fatalf("%q: streamed refused: %v", data, err)
		case wantErr != nil:
			msg := status.Convert(err).Message()
			if strings.HasPrefix(wantErr.Error(), "Invalid JSON body") {
				if !strings.HasPrefix(msg, "Invalid JSON body") {
					t.Fatalf("%q: got %q, want %q", data, msg, wantErr)
				}
			} else if msg != wantErr.Error() {
				t.Fatalf("%q: got %q, want %q", data, msg, wantErr)
			}
			continue
		}
		if got.BuildId != want.BuildId || got.PhaseName != want.PhaseName || got.Status != want.Status ||
			(got.Output == nil) != (want.Output == nil) || !bytes.Equal(got.Output, want.Output) {
			t.Fatalf("%q: got %+v, want %+v", data, got, &want)
		}
	}
}

var phaseBodies = []string{
	`{"build_id": 1, "phase_name": "install", "status": "SUCCESS", "output": "line\nline"}`,
	`{"output": "first", "build_id": "7", "phase_name": "x", "status": "ERROR"}`,
	`{"output": null, "build_id": 1}`, `{"build_id": 1}`, `{}`, ` {} `, "\f{}\v", "\u00a0{}\u2028",
	`{"output": ""}`, `{"output": "a", "output": "b"}`, `{"output": "a", "output": null}`, `{"output": null, "output": "z"}`,
	`{"OUTPUT": "folded", "Build_ID": 3, "ſtatus": "SUCCESS"}`, `{"\u006futput": "escaped key"}`,
	`{"output": 5}`, `{"output": ["x"]}`, `{"output": {}}`, `{"output": true}`, `{"phase_name": 5, "output": 5}`,
	`{"phase_name": 5, "output": 5, "output": "x"}`, `{"Phase_Name": 5, "OUTPUT": [], "status": 5}`,
	`{"phase_name": 5}`, `{"status": 5, "phase_name": 5}`, `{"status": 5, "status": "SUCCESS"}`,
	`{"build_id": 0}`, `{"build_id": -3}`, `{"build_id": "x"}`, `{"build_id": 1.5}`, `{"build_id": true}`,
	`{"extra": {"a": [1, 2, {"b": null}], "c": -1.5e+3}, "output": "x"}`, `{"extra": "\ud800"}`,
	`{"output": "\u00e9\u20ac\ud83d\ude00 \ud83d lone \ud83d\u0041 \udc00 end \ud83d"}`,
	"{\"output\": \"raw \xff byte é€😀 \x7f\"}", `{"output": "\b\f\r\t\/\\\""}`,
	``, `   `, `[]`, `"x"`, `{`, `{"output": "unterminated`, `{"output": "bad \x escape"}`,
	`{"output": "\u12"}`, `{"a" 1}`, `{"a": 1,}`, `{"a": 1 "b": 2}`, `{"a": 01}`, `{"a": -}`, `{"a": 1.}`,
	`{"a": 1e}`, `{"a": tru}`, `{"a": nul}`, `{} x`, `{} {}`, "{} \v x", "{\"output\": \"ctl \x01\"}",
	`{"a": [1 2]}`, `{"a": {"b" 1}}`, `{"a": {1: 2}}`, `{1: 2}`, `{"output": "x", "output": 5}`,
	strings.Repeat(`{"a":`, 3) + `1}}}`, `{"a": ` + strings.Repeat(`[`, maxJSONDepth+1) + strings.Repeat(`]`, maxJSONDepth+1) + `}`,
	"{\"output\": \"" + strings.Repeat("x", 3*outputChunkBytes+17) + "\"}",
	"{\"output\": \"" + strings.Repeat("é\\n", outputChunkBytes) + "\", \"output\": \"" + strings.Repeat("y", outputChunkBytes) + "\"}",
}

func TestPhaseBodyDecodesAsTheCodec(t *testing.T) {
	for _, b := range phaseBodies {
		checkSame(t, []byte(b))
	}
}

// The streamed decoding accepts, refuses and decodes every body as the whole body's does.
func FuzzPhaseBody(f *testing.F) {
	for _, b := range phaseBodies {
		if len(b) < 4096 {
			f.Add([]byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSame(t, data)
	})
}

// BenchmarkPhaseBody streams a phase update carrying the fixture build log.
func BenchmarkPhaseBody(b *testing.B) {
	log, err := os.ReadFile(filepath.Join("..", "testdata", "dummy-tar-spack", "spack-build-out.txt"))
	if err != nil {
		b.Fatal(err)
	}
	out, err := json.Marshal(string(log))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"build_id": 1, "phase_name": "install", "status": "SUCCESS", "output": ` + string(out) + `}`)
	b.SetBytes(int64(len(body)))
	var n int
	for b.Loop() {
		pb := newPhaseBody(bytes.NewReader(body), func(chunk []byte, _ bool) { n += len(chunk) })
		if _, err := pb.phase(); err != nil {
			b.Fatal(err)
		}
		pb.release()
	}
}

// plainRun finds the first byte that is not plainASCII wherever it lies in a word, whatever
// the bytes around it.
func TestPlainRun(t *testing.T) {
	for c := range 256 {
		for at := range 19 {
			for _, fill := range []byte{'a', 0x7f, 0x20, '"' + 1} {
				b := bytes.Repeat([]byte{fill}, 19)
				b[at] = byte(c)
				want := 19
				if !plainASCII[c] {
					want = at
				}
				if got := plainRun(b); got != want {
					t.Fatalf("byte %#x at %d among %#x: plainRun %d, want %d", c, at, fill, got, want)
				}
			}
		}
	}
	// Runs of bytes next to the ones each test flags, where borrows could cross.
	alphabet := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']', 'a', 0x7e, 0x7f, 0x80, 0xa0, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		want := 0
		for want < len(b) && plainASCII[b[want]] {
			want++
		}
		if got := plainRun(b); got != want {
			t.Fatalf("%q: plainRun %d, want %d", b, got, want)
		}
	}
}
