package spackspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The wire shapes. v1 and v2/v3 nodes share nodeJSON and differ in the shape of
// "dependencies": v2/v3 always send a list, decoded directly because a node's dependencies
// are a quarter of a document and a custom decoder would scan them twice more; v1 sends an
// object (or, leniently, a list), which depsJSON accepts.

type v2NodeJSON struct {
	nodeJSON
	Dependencies []depJSON `json:"dependencies"`
}

type v1NodeJSON struct {
	nodeJSON
	Dependencies depsJSON `json:"dependencies"`
}

type nodeJSON struct {
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	Versions    []string        `json:"versions"`
	Namespace   string          `json:"namespace"`
	Hash        string          `json:"hash"`
	FullHash    string          `json:"full_hash"`
	BuildHash   string          `json:"build_hash"`
	PackageHash string          `json:"package_hash"`
	Concrete    *bool           `json:"concrete"`
	Arch        *archJSON       `json:"arch"`
	Compiler    *compilerJSON   `json:"compiler"`
	Parameters  json.RawMessage `json:"parameters"`
}

type archJSON struct {
	Platform   string `json:"platform"`
	PlatformOS string `json:"platform_os"`
	// Target stays raw until parser.target: it is a string or an object, and identical
	// across the nodes of a DAG, so decoding it once per document pays off.
	Target borrowed `json:"target"`
}

// borrowed keeps a value's JSON text without copying it. The bytes belong to the decoder and
// stay valid only until its next read, so a node holding one must be converted before the
// parser reads on; that is what nodeList and v1List do.
type borrowed []byte

func (b *borrowed) UnmarshalJSON(data []byte) error {
	*b = data
	return nil
}

type targetJSON struct {
	Name       string   `json:"name"`
	Vendor     string   `json:"vendor"`
	Features   []string `json:"features"`
	Generation int      `json:"generation"`
	Parents    []string `json:"parents"`
}

type compilerJSON struct {
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Versions []string `json:"versions"`
}

type depJSON struct {
	Name      string    `json:"name"`
	FullHash  string    `json:"full_hash"`
	BuildHash string    `json:"build_hash"`
	Hash      string    `json:"hash"`
	Type      typesJSON `json:"type"`
}

// depsJSON is a v1 node's "dependencies": an object keyed by name, whose order is kept, or
// a list of entries that carry their name.
type depsJSON []depJSON

func (d *depsJSON) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errDeps
	}
	switch data[0] {
	case 'n':
		*d = nil
		return nil
	case '[':
		var l []depJSON
		if err := json.Unmarshal(data, &l); err != nil {
			return decodeError("dependencies", err)
		}
		*d = l
		return nil
	case '{':
		l, err := depsObject(data)
		if err != nil {
			return err
		}
		*d = l
		return nil
	}
	return errDeps
}

var errDeps = errors.New(`"dependencies" must be a list or an object`)

// depsObject reads v1 dependencies, {"<name>": {"hash": h, "type": [...]}}. The oldest
// documents gave the hash alone as the value, which costs nothing to accept.
func depsObject(data []byte) ([]depJSON, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(err)
	}
	var l []depJSON
	for dec.More() {
		if len(l) == MaxDeps {
			return nil, fmt.Errorf("more than %d dependencies", MaxDeps)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		name := tok.(string) // the decoder only yields string keys inside an object
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxError(err)
		}
		var dj depJSON
		if len(raw) > 0 && raw[0] == '"' {
			err = json.Unmarshal(raw, &dj.Hash)
		} else {
			err = json.Unmarshal(raw, &dj)
		}
		if err != nil {
			return nil, decodeError("dependency "+clip(name), err)
		}
		dj.Name = name
		l = append(l, dj)
	}
	return l, nil
}

// typesJSON is a dependency's "type": a list of strings, or a single string.
type typesJSON []string

var errTypes = errors.New(`dependency "type" must be a string or a list of strings`)

func (t *typesJSON) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errTypes
	}
	switch data[0] {
	case 'n':
		*t = nil
		return nil
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return errTypes
		}
		*t = typesJSON{s}
		return nil
	case '[':
		// Every dependency has a type list, so the plain case skips a nested json.Unmarshal
		// (which would validate and scan the bytes again) and shares the common names.
		if l, ok := plainStrings(data); ok {
			*t = l
			return nil
		}
		var l []string
		if err := json.Unmarshal(data, &l); err != nil {
			return errTypes
		}
		*t = l
		return nil
	}
	return errTypes
}

// plainStrings reads a JSON list of strings made only of printable ASCII without escapes,
// for which the bytes between the quotes are the string. Anything else reports !ok and is
// left to encoding/json.
func plainStrings(data []byte) (typesJSON, bool) {
	var out typesJSON
	i := skipSpace(data, 1)
	if i < len(data) && data[i] == ']' {
		return nil, skipSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if c := data[j]; c < 0x20 || c > 0x7e || c == '\\' {
				return nil, false
			}
			j++
		}
		if j >= len(data) {
			return nil, false
		}
		if out == nil {
			out = make(typesJSON, 0, 4)
		}
		out = append(out, depType(data[i+1:j]))
		i = skipSpace(data, j+1)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return out, skipSpace(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
}

// depType returns Spack's dependency types as constants so that a large DAG does not hold
// one copy of "build" per edge.
func depType(b []byte) string {
	switch string(b) {
	case "build":
		return "build"
	case "link":
		return "link"
	case "run":
		return "run"
	case "test":
		return "test"
	}
	return string(b)
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// discard consumes a value the parser has no use for without keeping a copy.
type discard struct{}

func (*discard) UnmarshalJSON([]byte) error { return nil }
