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

// stallServer serves handler behind boundStalls on loopback, with stallTimeout shortened.
func stallServer(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	saved := stallTimeout
	stallTimeout = 300 * time.Millisecond
	t.Cleanup(func() { stallTimeout = saved })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r = boundStalls(w, r)
		handler(w, r)
	})}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = srv.Close() })
	return lis.Addr().String()
}

// A client that stops reading an answer loses its connection after stallTimeout, instead
// of holding the answer in the server's memory for as long as it likes; one that reads gets
// all of it, and so does the next request on a connection whose last answer set a
// deadline long past.
func TestStalledReaderIsDropped(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB: more than loopback buffers hold
	addr := stallServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			_, _ = w.Write([]byte("ok"))
			return
		}
		_, _ = w.Write(body)
	})
	client := &http.Client{}
	get := func(path string) ([]byte, error) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	if got, err := get("/big"); err != nil || len(got) != len(body) {
		t.Fatalf("a reader that keeps up: %d of %d bytes, %v", len(got), len(body), err)
	}
	time.Sleep(2 * stallTimeout)
	if got, err := get("/small"); err != nil || string(got) != "ok" {
		t.Fatalf("the next request on the connection: %q, %v", got, err)
	}

	// A reader that stops is dropped: what it reads later ends short.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(5 * stallTimeout)
	// Reading all of the answer takes far less than this; a connection still up after it
	// (keep-alive) ends the read too.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(conn)
	if len(got) >= len(body) {
		t.Errorf("a stalled reader still got the whole answer (%d bytes)", len(got))
	}
}

// A body whose sender stops, or trickles fewer than stallPiece bytes per stallTimeout, ends
// in an error for the handler (which releases what it holds); a body sent steadily, however
// slowly, is read whole, and its answer may take longer than stallTimeout once it is read
// (reading past the end sets no deadline, which would cancel the request). Time the server
// leaves the body unread is not counted against the client; the whole body's is.
func TestStalledSenderIsDropped(t *testing.T) {
	results := make(chan string, 1)
	addr := stallServer(t, func(w http.ResponseWriter, r *http.Request) {
		// The handler leaves the body unread a while: that time is not the client's.
		first, _ := r.Body.Read(make([]byte, 1024))
		time.Sleep(2 * stallTimeout)
		n, err := io.Copy(io.Discard, r.Body)
		n += int64(first)
		if err == nil {
			// As a decoder may: read again at the end.
			if _, again := r.Body.Read(make([]byte, 1)); again != io.EOF {
				err = again
			}
		}
		results <- fmt.Sprintf("%d %v", n, err)
		if err == nil {
			// An answer slow to prepare, from a call that ends with the request's context.
			select {
			case <-time.After(3 * stallTimeout):
			case <-r.Context().Done():
				_, _ = w.Write([]byte("cancelled"))
				return
			}
		}
		_, _ = w.Write([]byte("answered"))
	})
	send := func(pieces int, piece string, pause time.Duration) (*http.Response, error) {
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

	// Steady: a piece of stallPiece bytes every half stallTimeout.
	resp, err := send(4, strings.Repeat("x", stallPiece), stallTimeout/2)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := <-results; got != fmt.Sprint(4*stallPiece, " <nil>") || string(answer) != "answered" {
		t.Errorf("a steady sender: the handler read %s, the client got %q", got, answer)
	}

	// A trickle: 10 bytes every third of stallTimeout, far less than a piece in time.
	cut := func(what string, pieces int, piece string, pause time.Duration) {
		t.Helper()
		go func() {
			resp, err := send(pieces, piece, pause)
			if err == nil {
				resp.Body.Close()
			}
		}()
		select {
		case got := <-results:
			if strings.HasSuffix(got, "<nil>") {
				t.Errorf("%s: the body was read whole: %s", what, got)
			}
		case <-time.After(time.Duration(pieces) * (pause + stallTimeout)):
			t.Errorf("%s: the body was still being read", what)
		}
	}
	cut("a trickling sender", 20, strings.Repeat("y", 10), stallTimeout/3)

	// A steady sender whose body takes longer than bodyTimeout in all.
	defer func(d time.Duration) { bodyTimeout = d }(bodyTimeout)
	bodyTimeout = 4 * stallTimeout
	cut("a body longer than bodyTimeout", 20, strings.Repeat("z", stallPiece), stallTimeout/2)
}

// A body the handler never reads, and the client never sends, still ends within
// bodyTimeout: net/http reads what is left of a body before it answers.
func TestUnreadBodyIsBounded(t *testing.T) {
	defer func(d time.Duration) { bodyTimeout = d }(bodyTimeout)
	bodyTimeout = time.Second
	addr := stallServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("answer without reading the body\n", 1000)))
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(20 * bodyTimeout))
	_, _ = io.ReadAll(conn)
	if took := time.Since(start); took >= 20*bodyTimeout {
		t.Errorf("the connection was still open after %v", took.Round(time.Millisecond))
	}
}
