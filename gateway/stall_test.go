package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Bounds for the tests: a short one for the clients that must be cut, and a long one for
// the clients that must not, which keep up even on a machine busy with other tests.
var (
	testStalls = stalls{piece: 300 * time.Millisecond, body: time.Minute}
	patient    = stalls{piece: 5 * time.Second, body: time.Minute}
)

// stallServer serves handler on loopback behind the bounds b.
func stallServer(t *testing.T, b stalls, handler http.HandlerFunc) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r = b.bound(w, r)
		handler(w, r)
	})}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = srv.Close() })
	return lis.Addr().String()
}

// A client that stops reading an answer loses its connection after the piece time, instead
// of holding the answer in the server's memory for as long as it likes; one that reads gets
// all of it, and so does the next request on a connection whose last answer set a
// deadline long past.
func TestStalledReaderIsDropped(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB: more than loopback buffers hold
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			_, _ = w.Write([]byte("ok"))
			return
		}
		_, _ = w.Write(body)
	}
	addr, kept := stallServer(t, testStalls, handler), stallServer(t, patient, handler)
	client := &http.Client{}
	get := func(addr, path string) ([]byte, error) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	if got, err := get(kept, "/big"); err != nil || len(got) != len(body) {
		t.Fatalf("a reader that keeps up: %d of %d bytes, %v", len(got), len(body), err)
	}
	for range 2 {
		if got, err := get(addr, "/small"); err != nil || string(got) != "ok" {
			t.Fatalf("a request on a connection whose last answer's deadline passed: %q, %v", got, err)
		}
		time.Sleep(2 * testStalls.piece)
	}

	// A reader that stops is dropped: what it reads later ends short.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(5 * testStalls.piece)
	// Reading all of the answer takes far less than this; a connection still up after it
	// (keep-alive) ends the read too.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(conn)
	if len(got) >= len(body) {
		t.Errorf("a stalled reader still got the whole answer (%d bytes)", len(got))
	}
}

// A body whose sender stops, or trickles fewer than stallPiece bytes per piece time, ends
// in an error for the handler (which releases what it holds); a body sent steadily, however
// slowly, is read whole, and its answer may take longer than the piece time once it is read
// (reading past the end sets no deadline, which would cancel the request). Time the server
// leaves the body unread is not counted against the client; the whole body's is.
func TestStalledSenderIsDropped(t *testing.T) {
	results := make(chan string, 1)
	// handler leaves the body unread for twice b's piece time after its first bytes: that
	// time is not the client's.
	handler := func(b stalls) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			serveSlowly(w, r, 2*b.piece, 3*b.piece, results)
		}
	}
	steady := stalls{piece: time.Second, body: time.Minute}
	kept := stallServer(t, steady, handler(steady))
	addr := stallServer(t, testStalls, handler(testStalls))
	// shortBodies gives a whole body four pieces' time.
	short := stalls{piece: testStalls.piece, body: 4 * testStalls.piece}
	shortBodies := stallServer(t, short, handler(short))
	send := func(addr string, pieces int, piece string, pause time.Duration) (*http.Response, error) {
		pr, pw := io.Pipe()
		go func() {
			for range pieces {
				if _, err := pw.Write([]byte(piece)); err != nil {
					return
				}
				time.Sleep(pause)
			}
			_ = pw.Close()
		}()
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(pieces * len(piece))
		return http.DefaultClient.Do(req)
	}

	// Steady: a piece of stallPiece bytes every quarter of the piece time.
	resp, err := send(kept, 4, strings.Repeat("x", stallPiece), steady.piece/4)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := <-results; got != fmt.Sprint(4*stallPiece, " <nil>") || string(answer) != "answered" {
		t.Errorf("a steady sender: the handler read %s, the client got %q", got, answer)
	}

	// A trickle: 10 bytes every third of testStalls.piece, far less than a piece in time.
	cut := func(what, addr string, pieces int, piece string, pause time.Duration) {
		t.Helper()
		go func() {
			resp, err := send(addr, pieces, piece, pause)
			if err == nil {
				resp.Body.Close()
			}
		}()
		select {
		case got := <-results:
			if strings.HasSuffix(got, "<nil>") {
				t.Errorf("%s: the body was read whole: %s", what, got)
			}
		case <-time.After(time.Duration(pieces) * (pause + testStalls.piece)):
			t.Errorf("%s: the body was still being read", what)
		}
	}
	cut("a trickling sender", addr, 20, strings.Repeat("y", 10), testStalls.piece/3)

	// A steady sender whose body takes longer than the whole-body bound.
	cut("a body longer than its bound", shortBodies, 20, strings.Repeat("z", stallPiece), testStalls.piece/2)
}

// A body the handler never reads, and the client never sends, still ends within its
// whole-body bound: net/http reads what is left of a body before it answers.
func TestUnreadBodyIsBounded(t *testing.T) {
	bounds := stalls{piece: testStalls.piece, body: time.Second}
	addr := stallServer(t, bounds, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("answer without reading the body\n", 1000)))
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(20 * bounds.body))
	_, _ = io.ReadAll(conn)
	if took := time.Since(start); took >= 20*bounds.body {
		t.Errorf("the connection was still open after %v", took.Round(time.Millisecond))
	}
}

// serveSlowly reads a body as a slow handler does: its first bytes, then nothing for pause,
// then the rest and once more past the end, as a decoder may; it reports what it read to
// results, and answers after prepare, or at once when the request's context ends.
func serveSlowly(w http.ResponseWriter, r *http.Request, pause, prepare time.Duration, results chan<- string) {
	first, _ := r.Body.Read(make([]byte, 1024))
	time.Sleep(pause)
	n, err := io.Copy(io.Discard, r.Body)
	n += int64(first)
	if err == nil {
		if _, again := r.Body.Read(make([]byte, 1)); again != io.EOF {
			err = again
		}
	}
	results <- fmt.Sprintf("%d %v", n, err)
	if err == nil {
		select {
		case <-time.After(prepare):
		case <-r.Context().Done():
			_, _ = w.Write([]byte("cancelled"))
			return
		}
	}
	_, _ = w.Write([]byte("answered"))
}
