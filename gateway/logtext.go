package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// errNotText is a JSON value that is neither a string nor null where text is expected.
var errNotText = errors.New("not a string")

// logText is a JSON string decoded straight into bytes: a phase log may be hundreds of MiB,
// and a string field would cost it three copies (unquoting, the string, the request's
// bytes) where this costs one. It decodes exactly as encoding/json decodes a string.
type logText struct {
	data []byte
	set  bool // the value was a string, not null or absent
}

var _ json.Unmarshaler = (*logText)(nil)

// UnmarshalJSON is given a value the decoder has already checked to be valid JSON.
func (t *logText) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		*t = logText{}
		return nil
	}
	if len(raw) < 2 || raw[0] != '"' {
		return errNotText
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		*t = logText{data: bytes.Clone(s), set: true}
		return nil
	}
	*t = logText{data: unescape(s), set: true}
	return nil
}

// unescape decodes the inside of a valid JSON string: escapes, surrogate pairs, and bytes
// that are not UTF-8 (each becomes U+FFFD), as encoding/json does.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			i++
			switch s[i] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(s[i+1:])
				i += 4
				if utf16.IsSurrogate(r) {
					if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(s[i+3:])); dec != unicode.ReplacementChar {
							out = utf8.AppendRune(out, dec)
							i += 7
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
			default: // '"', '\\', '/'
				out = append(out, s[i])
			}
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, s[i:i+size]...)
			}
			i += size
		}
	}
	return out
}

// hex4 reads the four hex digits of a \u escape the decoder has already checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
