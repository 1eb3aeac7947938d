package gateway

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// outputChunkBytes is how much of a phase's decoded log the gateway holds before passing it
// on: with the read buffer, the memory of a phase update in the gateway whatever the size
// of the log. Many clients post at once, so it is kept small; gRPC's cost per message is
// small beside 64 KiB.
const (
	outputChunkBytes = 64 << 10
	bodyReadBytes    = 32 << 10
)

// phaseBuffers keeps the read buffers and chunks of finished phase updates for the next.
var phaseBuffers = sync.Pool{New: func() any {
	return &phaseBuffer{r: bufio.NewReaderSize(nil, bodyReadBytes), out: make([]byte, 0, outputChunkBytes)}
}}

type phaseBuffer struct {
	r   *bufio.Reader
	out []byte
}

// maxJSONDepth is encoding/json's nesting limit, which the body's other values keep.
const maxJSONDepth = 10000

// maxFieldKeyBytes is longer than any spelling of a known key encoding/json would match
// (case folded, every character a \u escape); a longer key is some other field.
const maxFieldKeyBytes = 256

// errPhaseSyntax marks a body that is not valid JSON; its text follows Go 1.26's encoding/json
// (1.27's words some of these errors differently).
type errPhaseSyntax struct{ msg string }

func (e *errPhaseSyntax) Error() string { return e.msg }

// errBodyRead is a failed read of the body (cut off at its limit, a client gone).
type errBodyRead struct{ err error }

func (e *errBodyRead) Error() string { return e.err.Error() }
func (e *errBodyRead) Unwrap() error { return e.err }

// phaseBody reads a phase update's JSON body in one pass without holding its output: the
// output string is decoded as it arrives and handed on in chunks, while the small fields
// are kept raw, in document order, to be decoded by encoding/json as a whole body would be.
// What it accepts and refuses is what codec.decode and readUpdatePhase do with the whole
// body.
type phaseBody struct {
	r *bufio.Reader
	// emit is given each chunk of the output in order; reset says the output given so far
	// is dropped (a later "output" key replaces an earlier one, as in encoding/json).
	emit func(chunk []byte, reset bool)
	out  []byte
	// restart is set when the next chunk starts a new output.
	restart bool
	// fields is a JSON object of the known small fields in document order.
	fields bytes.Buffer
	// capture, when set, receives the raw bytes read.
	capture *bytes.Buffer
	// outputSet and outputNull are the last output's form; notText says an output was
	// neither a string nor null.
	outputSet, outputNull, notText bool
	depth                          int
}

func newPhaseBody(r io.Reader, emit func(chunk []byte, reset bool)) *phaseBody {
	b := phaseBuffers.Get().(*phaseBuffer)
	b.r.Reset(r)
	return &phaseBody{r: b.r, out: b.out[:0], emit: emit}
}

// release gives the buffers back for another body; p is not used after.
func (p *phaseBody) release() {
	p.r.Reset(nil)
	if cap(p.out) == outputChunkBytes {
		phaseBuffers.Put(&phaseBuffer{r: p.r, out: p.out[:0]})
	}
}

// read reads the whole body; the output has been emitted by the time it returns.
func (p *phaseBody) read() error {
	if err := p.leadingSpace(); err != nil {
		return err
	}
	p.fields.WriteByte('{')
	if err := p.object(); err != nil {
		return err
	}
	if err := p.trailingSpace(); err != nil {
		return err
	}
	p.fields.WriteByte('}')
	p.flush()
	return nil
}

// leadingSpace skips what bytes.TrimSpace would trim, and checks that an object follows.
func (p *phaseBody) leadingSpace() error {
	for {
		c, err := p.peek()
		if errors.Is(err, io.EOF) {
			return errors.New("The request body is empty; a JSON object is expected.")
		}
		if err != nil {
			return err
		}
		if c == '{' {
			return nil
		}
		r, size, ok := p.peekRune()
		if !ok || !unicode.IsSpace(r) {
			return errors.New("The request body must be a JSON object.")
		}
		_, _ = p.r.Discard(size)
	}
}

// trailingSpace allows after the object what a whole body may have: JSON white space, or
// any white space bytes.TrimSpace trims at the end.
func (p *phaseBody) trailingSpace() error {
	var first byte
	found := false
	for {
		r, size, ok := p.peekRune()
		if size == 0 {
			return p.readErr()
		}
		if !found && !(r < utf8.RuneSelf && isJSONSpace(byte(r))) {
			first, found = p.firstByte(), true
		}
		if !ok || !unicode.IsSpace(r) {
			return syntaxError(first, "after top-level value")
		}
		_, _ = p.r.Discard(size)
	}
}

func (p *phaseBody) firstByte() byte {
	b, _ := p.r.Peek(1)
	return b[0]
}

// peekRune decodes the next rune without reading it; size 0 at the end of the body.
func (p *phaseBody) peekRune() (rune, int, bool) {
	b, _ := p.r.Peek(utf8.UTFMax)
	if len(b) == 0 {
		return 0, 0, false
	}
	r, size := utf8.DecodeRune(b)
	return r, size, !(r == utf8.RuneError && size == 1)
}

// readErr is the error that ended the body, if it was not its end.
func (p *phaseBody) readErr() error {
	if _, err := p.r.Peek(1); err != nil && !errors.Is(err, io.EOF) {
		return &errBodyRead{err}
	}
	return nil
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *phaseBody) peek() (byte, error) {
	b, err := p.r.Peek(1)
	if len(b) == 0 {
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		return 0, &errBodyRead{err}
	}
	return b[0], nil
}

// next reads one byte of a value; the body ending here is a syntax error.
func (p *phaseBody) next() (byte, error) {
	c, err := p.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, &errPhaseSyntax{"unexpected end of JSON input"}
		}
		return 0, &errBodyRead{err}
	}
	if p.capture != nil {
		p.capture.WriteByte(c)
	}
	return c, nil
}

// nextNonSpace reads the next byte that is not JSON white space.
func (p *phaseBody) nextNonSpace() (byte, error) {
	for {
		c, err := p.next()
		if err != nil || !isJSONSpace(c) {
			return c, err
		}
	}
}

// object reads the top-level object, whose opening brace is next.
func (p *phaseBody) object() error {
	_, _ = p.next()
	c, err := p.nextNonSpace()
	if err != nil {
		return err
	}
	if c == '}' {
		return nil
	}
	for {
		if c != '"' {
			return syntaxError(c, "looking for beginning of object key string")
		}
		if err := p.member(); err != nil {
			return err
		}
		if c, err = p.nextNonSpace(); err != nil {
			return err
		}
		if c == '}' {
			return nil
		}
		if c != ',' {
			return syntaxError(c, "after object key:value pair")
		}
		if c, err = p.nextNonSpace(); err != nil {
			return err
		}
	}
}

// member reads one key (its opening quote read) and its value.
func (p *phaseBody) member() error {
	var key bytes.Buffer
	key.WriteByte('"')
	p.capture = &key
	err := p.skipString()
	p.capture = nil
	if err != nil {
		return err
	}
	c, err := p.nextNonSpace()
	if err != nil {
		return err
	}
	if c != ':' {
		return syntaxError(c, "after object key")
	}
	if c, err = p.nextNonSpace(); err != nil {
		return err
	}
	switch fieldOf(key.Bytes()) {
	case "output":
		return p.output(c)
	case "":
		return p.skipValue(c)
	}
	if p.fields.Len() > 1 {
		p.fields.WriteByte(',')
	}
	p.fields.Write(key.Bytes())
	p.fields.WriteByte(':')
	p.capture = &p.fields
	p.fields.WriteByte(c)
	err = p.skipValue(c)
	p.capture = nil
	return err
}

// phaseFieldProbe finds which field encoding/json matches a key to (it folds case).
type phaseFieldProbe struct {
	BuildID   json.RawMessage `json:"build_id"`
	PhaseName json.RawMessage `json:"phase_name"`
	Status    json.RawMessage `json:"status"`
	Output    json.RawMessage `json:"output"`
}

// fieldOf names the field of updatePhaseBody a raw key stands for, or "" for none.
func fieldOf(rawKey []byte) string {
	if len(rawKey) > maxFieldKeyBytes {
		return ""
	}
	var probe phaseFieldProbe
	if json.Unmarshal(append(append([]byte("{"), rawKey...), ":0}"...), &probe) != nil {
		return ""
	}
	switch {
	case probe.BuildID != nil:
		return "build_id"
	case probe.PhaseName != nil:
		return "phase_name"
	case probe.Status != nil:
		return "status"
	case probe.Output != nil:
		return "output"
	}
	return ""
}

// output reads an output value whose first byte is c.
func (p *phaseBody) output(c byte) error {
	if p.outputSet || p.outputNull {
		p.out, p.restart = p.out[:0], true
	}
	p.outputSet, p.outputNull = false, false
	switch c {
	case '"':
		p.outputSet = true
		return p.streamString()
	case 'n':
		if err := p.literal("null"); err != nil {
			return err
		}
		p.outputNull = true
		return nil
	}
	p.notText = true
	return p.skipValue(c)
}

// streamString decodes the output string (its opening quote read) as encoding/json does,
// passing it on in chunks.
func (p *phaseBody) streamString() error {
	for {
		buf, err := p.r.Peek(max(1, p.r.Buffered()))
		if len(buf) == 0 {
			if errors.Is(err, io.EOF) {
				return &errPhaseSyntax{"unexpected end of JSON input"}
			}
			return &errBodyRead{err}
		}
		i := p.addPlain(buf)
		_, _ = p.r.Discard(i)
		if i == len(buf) {
			continue
		}
		c := buf[i]
		switch {
		case c == '"':
			_, _ = p.r.Discard(1)
			return nil
		case c == '\\':
			_, _ = p.r.Discard(1)
			if err := p.escape(); err != nil {
				return err
			}
		case c < 0x20:
			return syntaxError(c, "in string literal")
		default:
			r, size, ok := p.peekRune()
			if !ok {
				r = unicode.ReplacementChar
			}
			p.add(utf8.AppendRune(nil, r))
			_, _ = p.r.Discard(size)
		}
	}
}

// plainASCII holds the bytes that stand for themselves in a JSON string: ASCII from the
// space up but the quote and the backslash. The loop over a line's plain bytes is the hot
// path of a phase update, so it costs one look-up a byte.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainRun returns how many bytes at the start of b are plainASCII. It looks at eight bytes
// at a time: the byte-by-byte loop was a tenth of serve's CPU on large logs. Each test below
// flags in a word's top bits the bytes that fail it; a borrow can flag a byte above one that
// truly fails, never below, so the lowest flag of any test is the first byte that is not
// plain.
func plainRun(b []byte) int {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		control := (w - 0x20*ones) &^ w
		quote, backslash := w^('"'*ones), w^('\\'*ones)
		quote = (quote - ones) &^ quote
		backslash = (backslash - ones) &^ backslash
		if m := (w | control | quote | backslash) & tops; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && plainASCII[b[i]] {
		i++
	}
	return i
}

// shortEscapes maps the byte after a backslash to what the escape stands for, for the
// escapes of one byte.
var shortEscapes = [256]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\', '/': '/'}

// addPlain passes on the start of buf that decodes without a look past buf: ASCII text,
// the escapes of one byte (a log has a "\n" on every line) and valid UTF-8, which all
// decode to themselves or one byte, and returns its length. It stops at the closing
// quote, a \u escape, a backslash ending buf, invalid or cut UTF-8 and control bytes,
// which streamString decodes one at a time.
func (p *phaseBody) addPlain(buf []byte) int {
	i := 0
	for {
		start := i
		i += plainRun(buf[i:])
		p.add(buf[start:i])
		if i == len(buf) {
			return i
		}
		switch c := buf[i]; {
		case c == '\\' && i+1 < len(buf) && shortEscapes[buf[i+1]] != 0:
			p.addByte(shortEscapes[buf[i+1]])
			i += 2
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && size == 1 {
				return i
			}
			p.add(buf[i : i+size])
			i += size
		default:
			return i
		}
	}
}

// escape decodes one escape of the output (its backslash read).
func (p *phaseBody) escape() error {
	c, err := p.next()
	if err != nil {
		return err
	}
	switch c {
	case 'b':
		p.addByte('\b')
	case 'f':
		p.addByte('\f')
	case 'n':
		p.addByte('\n')
	case 'r':
		p.addByte('\r')
	case 't':
		p.addByte('\t')
	case '"', '\\', '/':
		p.addByte(c)
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			r = p.lowSurrogate(r)
		}
		p.add(utf8.AppendRune(nil, r))
	default:
		return syntaxError(c, "in string escape code")
	}
	return nil
}

// lowSurrogate joins a high surrogate with the \u escape that follows it when the two make
// a character, and reads that escape; otherwise the surrogate is U+FFFD.
func (p *phaseBody) lowSurrogate(r rune) rune {
	b, _ := p.r.Peek(6)
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return unicode.ReplacementChar
	}
	n, err := strconv.ParseUint(string(b[2:6]), 16, 32)
	if err != nil {
		return unicode.ReplacementChar
	}
	dec := utf16.DecodeRune(r, rune(n))
	if dec == unicode.ReplacementChar {
		return dec
	}
	_, _ = p.r.Discard(6)
	return dec
}

func (p *phaseBody) hex4() (rune, error) {
	var r rune
	for range 4 {
		c, err := p.next()
		if err != nil {
			return 0, err
		}
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, syntaxError(c, "in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(d)
	}
	return r, nil
}

// add appends decoded output, passing on a full chunk.
func (p *phaseBody) add(b []byte) {
	for len(b) > 0 {
		n := min(len(b), outputChunkBytes-len(p.out))
		p.out = append(p.out, b[:n]...)
		b = b[n:]
		if len(p.out) >= outputChunkBytes {
			p.flush()
		}
	}
}

// addByte is add of one byte, the decoded escape ending most lines of a log.
func (p *phaseBody) addByte(c byte) {
	p.out = append(p.out, c)
	if len(p.out) >= outputChunkBytes {
		p.flush()
	}
}

func (p *phaseBody) flush() {
	if len(p.out) == 0 && !p.restart {
		return
	}
	p.emit(p.out, p.restart)
	p.out, p.restart = p.out[:0], false
}

// skipValue reads a value whose first byte is c, checking its syntax.
func (p *phaseBody) skipValue(c byte) error {
	switch {
	case c == '"':
		return p.skipString()
	case c == '{' || c == '[':
		return p.skipComposite(c)
	case c == '-' || '0' <= c && c <= '9':
		return p.skipNumber(c)
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return syntaxError(c, "looking for beginning of value")
}

// literal reads the rest of true, false or null.
func (p *phaseBody) literal(word string) error {
	for i := 1; i < len(word); i++ {
		c, err := p.next()
		if err != nil {
			return err
		}
		if c != word[i] {
			return syntaxError(c, fmt.Sprintf("in literal %s (expecting %s)", word, quoteChar(word[i])))
		}
	}
	return nil
}

// skipString reads a string (its opening quote read), checking its escapes.
func (p *phaseBody) skipString() error {
	for {
		c, err := p.next()
		if err != nil {
			return err
		}
		switch {
		case c == '"':
			return nil
		case c == '\\':
			if err := p.skipEscape(); err != nil {
				return err
			}
		case c < 0x20:
			return syntaxError(c, "in string literal")
		}
	}
}

func (p *phaseBody) skipEscape() error {
	c, err := p.next()
	if err != nil {
		return err
	}
	switch c {
	case 'b', 'f', 'n', 'r', 't', '"', '\\', '/':
		return nil
	case 'u':
		_, err := p.hex4()
		return err
	}
	return syntaxError(c, "in string escape code")
}

// skipComposite reads an object or an array whose opening byte is open.
func (p *phaseBody) skipComposite(open byte) error {
	if p.depth++; p.depth > maxJSONDepth {
		return &errPhaseSyntax{"exceeded max depth"}
	}
	defer func() { p.depth-- }()
	close, after := byte(']'), "after array element"
	if open == '{' {
		close, after = '}', "after object key:value pair"
	}
	c, err := p.nextNonSpace()
	if err != nil || c == close {
		return err
	}
	for {
		if open == '{' {
			if err := p.skipKey(c); err != nil {
				return err
			}
			if c, err = p.nextNonSpace(); err != nil {
				return err
			}
		}
		if err := p.skipValue(c); err != nil {
			return err
		}
		if c, err = p.nextNonSpace(); err != nil {
			return err
		}
		if c == close {
			return nil
		}
		if c != ',' {
			return syntaxError(c, after)
		}
		if c, err = p.nextNonSpace(); err != nil {
			return err
		}
	}
}

// skipKey reads an object key whose first byte is c and the colon after it.
func (p *phaseBody) skipKey(c byte) error {
	if c != '"' {
		return syntaxError(c, "looking for beginning of object key string")
	}
	if err := p.skipString(); err != nil {
		return err
	}
	c, err := p.nextNonSpace()
	if err != nil {
		return err
	}
	if c != ':' {
		return syntaxError(c, "after object key")
	}
	return nil
}

// skipNumber reads a number whose first byte is c.
func (p *phaseBody) skipNumber(c byte) error {
	var err error
	if c == '-' {
		if c, err = p.next(); err != nil {
			return err
		}
		if c < '0' || c > '9' {
			return syntaxError(c, "in numeric literal")
		}
	}
	if c != '0' {
		p.digits()
	}
	if p.peekIs('.') {
		_, _ = p.next()
		if err := p.oneDigit("after decimal point in numeric literal"); err != nil {
			return err
		}
		p.digits()
	}
	if p.peekIs('e') || p.peekIs('E') {
		_, _ = p.next()
		if p.peekIs('+') || p.peekIs('-') {
			_, _ = p.next()
		}
		if err := p.oneDigit("in exponent of numeric literal"); err != nil {
			return err
		}
		p.digits()
	}
	return nil
}

func (p *phaseBody) peekIs(want byte) bool {
	c, err := p.peek()
	return err == nil && c == want
}

func (p *phaseBody) digits() {
	for {
		c, err := p.peek()
		if err != nil || c < '0' || c > '9' {
			return
		}
		_, _ = p.next()
	}
}

func (p *phaseBody) oneDigit(context string) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c < '0' || c > '9' {
		return syntaxError(c, context)
	}
	return nil
}

func syntaxError(c byte, context string) error {
	return &errPhaseSyntax{"invalid character " + quoteChar(c) + " " + context}
}

// quoteChar formats c as encoding/json's syntax errors do.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(c))
	return "'" + s[1:len(s)-1] + "'"
}
