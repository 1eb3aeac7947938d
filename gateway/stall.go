package gateway

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// stalls bounds how long a client may take to send, or to take, the next piece of a
// request or an answer before the gateway drops its connection, and a whole body. An answer
// is held in memory while it is written, and a body's bytes are charged to the bound on
// bodies in flight before it is read: a client that stopped reading or sending would
// otherwise hold them, and a body declared large, starved of bytes, would keep every other
// write out meanwhile.
type stalls struct {
	// piece is the time for each stallPiece bytes.
	piece time.Duration
	// body bounds a whole body, however steadily sent: a 256 MiB log on a slow link fits.
	body time.Duration
}

var defaultStalls = stalls{piece: 30 * time.Second, body: 10 * time.Minute}

// stallPiece is the most of a body or an answer moved under one deadline: a client must
// move at least this much every piece time (about 2 KiB/s).
const stallPiece = 64 << 10

// bound gives the body and the answer of a request their time per piece, and the body its
// time in all, read or not: net/http reads what a handler left of a body before it answers
// (to keep the connection), and a client that never sends it would hold the connection
// forever. The server sets no deadline of its own while a handler runs (an answer may take
// long to prepare), and a connection's next request starts without the ones set here.
func (s stalls) bound(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	if r.Body != nil && r.Body != http.NoBody {
		until := time.Now().Add(s.body)
		_ = rc.SetReadDeadline(until)
		r.Body = &stallReader{ReadCloser: r.Body, rc: rc, piece: s.piece, until: until}
	}
	return stallWriter{ResponseWriter: w, rc: rc, piece: s.piece}, r
}

// stallWriter writes an answer in pieces, each of which the client must take within piece.
type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	piece time.Duration
}

func (w stallWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		piece := p[:min(len(p), stallPiece)]
		// Not every writer has a deadline (a test's recorder); it then has no connection to hold.
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.piece))
		n, err := w.ResponseWriter.Write(piece)
		written += n
		if err != nil {
			return written, err
		}
		p = p[len(piece):]
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (w stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// stallReader reads a body whose every piece of stallPiece bytes must arrive within piece
// of the gateway's waiting for it: a trickle of bytes does not extend the
// deadline, and time the gateway spends between reads (sending a piece on) is not the
// client's.
type stallReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	piece time.Duration
	until time.Time
	// left is what the current piece still lacks, waited how long reads waited for it.
	left   int
	waited time.Duration
	// done is set at the body's end. net/http then clears the deadline and reads the
	// connection to see the client leave; a deadline set after that would cancel the
	// request while it is answered.
	done bool
}

func (b *stallReader) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	if b.left <= 0 {
		b.left, b.waited = stallPiece, 0
	}
	start := time.Now()
	deadline := start.Add(b.piece - b.waited)
	if b.until.Before(deadline) {
		deadline = b.until
	}
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.ReadCloser.Read(p)
	b.waited += time.Since(start)
	b.left -= n
	b.done = errors.Is(err, io.EOF)
	return n, err
}
