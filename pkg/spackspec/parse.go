package spackspec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// Limits on what one document may hold. Spack's largest real DAGs have a few hundred nodes;
// the limits only stop a hostile body from making the server build a huge graph.
const (
	MaxNodes = 10000
	MaxDeps  = 10000
	// MaxDescendants bounds the (ancestor, descendant) pairs of a document's DAG, which the
	// store keeps as the spec closure: a chain of n nodes has n(n-1)/2 of them, so a 10,000
	// node chain would make the server build and write 50 million rows. Real DAGs of a few
	// hundred nodes have some tens of thousands.
	MaxDescendants = 200_000
	// MaxParameterDepth bounds the nesting of a node's "parameters": Spack's are an object
	// of variants whose values are at most lists. Pages indent them, and indentation grows
	// with the square of the depth.
	MaxParameterDepth = 16
)

// maxWrapping bounds the {"spec": {"spec": ...}} levels Parse peels off. Real documents have
// at most two; without a bound a deeply nested body would recurse without end.
const maxWrapping = 16

var errNoNodes = errors.New("spec document has no nodes")

// Parse reads a spec document: the value of the "spec" key of a specs/new or builds/new
// body, in any layout described in the package comment. Every error describes a problem
// with the document itself and is fit to show to the client that sent it.
func Parse(data []byte) (*Document, error) {
	p := parser{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	nodes, err := p.value(0)
	if err != nil {
		return nil, err
	}
	// Token, not More, so that garbage after the value is reported rather than ignored.
	if tok, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, syntaxError(err)
		}
		return nil, fmt.Errorf("spec document has data after its end (%s)", tokenKind(tok))
	}
	if len(nodes) == 0 {
		return nil, errNoNodes
	}
	if err := resolve(nodes); err != nil {
		return nil, err
	}
	if err := checkDescendants(nodes); err != nil {
		return nil, err
	}
	return &Document{Nodes: nodes, FailedConcretization: p.failed}, nil
}

// parser streams the document with json.Decoder so that the wrapper levels cost nothing:
// only the nodes are decoded, and each byte is scanned twice (once to find the value's end,
// once to decode it) instead of twice per wrapper level with json.Unmarshal.
type parser struct {
	dec    *json.Decoder
	failed bool
	// data is the whole document, and digest its SHA-256 once a content key needs it.
	data   []byte
	digest []byte
	// targets caches decoded targets by their JSON text: every node of a DAG normally has
	// the same target, whose feature list is the largest part of a node.
	targets map[string]Target
}

// value reads the next value of the stream, which must be a spec document.
func (p *parser) value(depth int) ([]Node, error) {
	if depth > maxWrapping {
		return nil, fmt.Errorf("spec document is wrapped in more than %d levels of \"spec\"", maxWrapping)
	}
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF && depth == 0 {
			return nil, errors.New("spec document is empty")
		}
		return nil, syntaxError(err)
	}
	switch tok {
	case json.Delim('{'):
		return p.object(depth)
	case json.Delim('['):
		return p.v1List()
	}
	return nil, fmt.Errorf("spec document must be a JSON object or list, not %s", tokenKind(tok))
}

// object reads a v2/v3 document ({"nodes": [...]}) or a wrapper ({"spec": <document>})
// after its opening brace. When an object has both keys, its own nodes win.
func (p *parser) object(depth int) ([]Node, error) {
	var nodes, wrapped []Node
	var haveNodes, haveSpec bool
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		switch tok.(string) { // the decoder only yields string keys inside an object
		case "nodes":
			haveNodes = true
			nodes, err = p.nodeList()
		case "spec":
			haveSpec = true
			wrapped, err = p.value(depth + 1)
		default:
			err = p.dec.Decode(&discard{})
			if err != nil {
				err = syntaxError(err)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, syntaxError(err)
	}
	switch {
	case haveNodes:
		return nodes, nil
	case haveSpec:
		return wrapped, nil
	}
	return nil, errNoNodes
}

// nodeList reads the value of a "nodes" key.
func (p *parser) nodeList() ([]Node, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("\"nodes\" must be a list, not %s", tokenKind(tok))
	}
	var nodes []Node
	var nj v2NodeJSON // one buffer for all nodes: Decode makes it escape, so it is a heap allocation
	for p.dec.More() {
		i := len(nodes)
		if i == MaxNodes {
			return nil, fmt.Errorf("spec document has more than %d nodes", MaxNodes)
		}
		nj = v2NodeJSON{}
		if err := p.dec.Decode(&nj); err != nil {
			return nil, decodeError(nodeLabel(i, nj.Name), err)
		}
		// Before reading on: nj borrows the decoder's buffer (see borrowed).
		n, err := p.node(i, nj.Name, &nj.nodeJSON, nj.Dependencies)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, syntaxError(err)
	}
	return nodes, nil
}

// v1List reads the pre-2021 layout after its opening bracket: a list of {"<name>": {...}}.
func (p *parser) v1List() ([]Node, error) {
	var nodes []Node
	for p.dec.More() {
		i := len(nodes)
		if i == MaxNodes {
			return nil, fmt.Errorf("spec document has more than %d nodes", MaxNodes)
		}
		tok, err := p.dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		if tok != json.Delim('{') {
			return nil, fmt.Errorf("node %d must be an object {\"<name>\": {...}}, not %s", i, tokenKind(tok))
		}
		if !p.dec.More() {
			return nil, fmt.Errorf("node %d has no name", i)
		}
		tok, err = p.dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		name := tok.(string)
		var nj v1NodeJSON
		if err := p.dec.Decode(&nj); err != nil {
			return nil, decodeError(nodeLabel(i, name), err)
		}
		// Before reading on: nj borrows the decoder's buffer (see borrowed).
		n, err := p.node(i, name, &nj.nodeJSON, nj.Dependencies)
		if err != nil {
			return nil, err
		}
		if p.dec.More() {
			return nil, fmt.Errorf("node %d must have exactly one key, its package name", i)
		}
		if _, err := p.dec.Token(); err != nil {
			return nil, syntaxError(err)
		}
		nodes = append(nodes, n)
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, syntaxError(err)
	}
	return nodes, nil
}

// node turns a decoded node into the model. Dependency indexes are left at -1 for resolve.
func (p *parser) node(i int, name string, nj *nodeJSON, deps []depJSON) (Node, error) {
	if name == "" {
		return Node{}, fmt.Errorf("node %d has no name", i)
	}
	label := func() string { return nodeLabel(i, name) } // only errors need it
	if nj.Concrete != nil && !*nj.Concrete {
		p.failed = true
	}
	n := Node{
		Name:        name,
		Version:     nj.Version,
		Namespace:   nj.Namespace,
		Hash:        p.hash(nj.Hash),
		FullHash:    p.hash(nj.FullHash),
		BuildHash:   p.hash(nj.BuildHash),
		PackageHash: nj.PackageHash,
	}
	// Node.Key identifies a node by full_hash or hash; build_hash alone cannot key it. An
	// abstract node may have neither (PROTOCOL.md §4).
	if n.Key() == "" && p.failed {
		n.ContentKey = p.contentKey(name, nj, deps)
	}
	if n.Key() == "" {
		if n.BuildHash != "" {
			return Node{}, fmt.Errorf("%s has only a build_hash; a node needs a full_hash or a hash", label())
		}
		return Node{}, fmt.Errorf("%s has no hash (none of full_hash, build_hash, hash)", label())
	}
	if n.Version == "" {
		n.Version = versionFromList(nj.Versions)
	}
	if len(nj.Parameters) > 0 && string(nj.Parameters) != "null" {
		// Spack's parameters are always an object of variants and flags; storing anything
		// else would only move the failure to whoever reads it back.
		if nj.Parameters[0] != '{' {
			return Node{}, fmt.Errorf("%s: \"parameters\" must be an object", label())
		}
		// Spack indents the documents it writes; without the white space every spec
		// stores about 150 bytes less, and a reader parses the same object.
		var compact bytes.Buffer
		if err := json.Compact(&compact, nj.Parameters); err != nil {
			return Node{}, fmt.Errorf("%s: \"parameters\": %v", label(), err)
		}
		if NestingDepth(compact.Bytes()) > MaxParameterDepth {
			return Node{}, fmt.Errorf("%s: \"parameters\" nest more than %d levels deep", label(), MaxParameterDepth)
		}
		n.Parameters = compact.Bytes()
	}
	if a := nj.Arch; a != nil {
		t, err := p.target(a.Target)
		if err != nil {
			return Node{}, fmt.Errorf("%s: arch.target: %v", label(), err)
		}
		n.Arch = &Arch{Platform: a.Platform, PlatformOS: a.PlatformOS, Target: t}
	}
	if c := nj.Compiler; c != nil {
		v := c.Version
		if v == "" {
			v = versionFromList(c.Versions)
		}
		n.Compiler = &Compiler{Name: c.Name, Version: v}
	}
	if len(deps) > MaxDeps {
		return Node{}, fmt.Errorf("%s has more than %d dependencies", label(), MaxDeps)
	}
	if len(deps) > 0 {
		n.Deps = make([]Dep, len(deps))
	}
	for j := range deps {
		dj := &deps[j]
		if dj.Name == "" {
			return Node{}, fmt.Errorf("%s: dependency %d has no name", label(), j)
		}
		ref := firstOf(p.hash(dj.FullHash), p.hash(dj.BuildHash), p.hash(dj.Hash))
		if ref == "" && !p.failed {
			return Node{}, fmt.Errorf("%s: dependency %d (%s) has no hash (none of full_hash, build_hash, hash)", label(), j, clip(dj.Name))
		}
		n.Deps[j] = Dep{Name: dj.Name, Ref: ref, Index: -1, Types: dj.Type}
	}
	return n, nil
}

// hash drops the failed-concretization marker: it is not an identity, and storing it would
// make every abstract node of a name collide.
func (p *parser) hash(h string) string {
	if h == FailedConcretization {
		p.failed = true
		return ""
	}
	return h
}

// contentKey is the key of an abstract node without a hash: the document's digest, then
// the node's name and constraints, each length-prefixed so that no two nodes share an
// encoding. The prefix keeps it apart from any hash Spack computes.
func (p *parser) contentKey(name string, nj *nodeJSON, deps []depJSON) string {
	if p.digest == nil {
		d := sha256.Sum256(p.data)
		p.digest = d[:]
	}
	h := sha256.New()
	h.Write(p.digest)
	field := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	field(name)
	field(nj.Version)
	field(strings.Join(nj.Versions, ","))
	field(nj.Namespace)
	field(string(nj.Parameters))
	for _, d := range deps {
		field(d.Name)
		field(strings.Join(d.Type, ","))
	}
	return "abstract-" + hex.EncodeToString(h.Sum(nil)[:16])
}

func firstOf(hs ...string) string {
	for _, h := range hs {
		if h != "" {
			return h
		}
	}
	return ""
}

// target decodes a target given as a bare name or as a microarchitecture object.
func (p *parser) target(raw borrowed) (Target, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return Target{}, nil
	}
	if t, ok := p.targets[string(raw)]; ok {
		return cloneTarget(t), nil
	}
	var t Target
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &t.Name); err != nil {
			return Target{}, err
		}
	case '{':
		var tj targetJSON
		if err := json.Unmarshal(raw, &tj); err != nil {
			return Target{}, decodeError("", err)
		}
		t = Target{Name: tj.Name, Vendor: tj.Vendor, Generation: tj.Generation, Features: tj.Features, Parents: tj.Parents}
	default:
		return Target{}, errors.New("must be a string or an object")
	}
	if p.targets == nil {
		p.targets = make(map[string]Target)
	}
	p.targets[string(raw)] = t
	return t, nil
}

// cloneTarget gives each node its own slices so that a caller editing one node's target
// cannot change another's.
func cloneTarget(t Target) Target {
	t.Features = slices.Clone(t.Features)
	t.Parents = slices.Clone(t.Parents)
	return t
}

// versionFromList derives a node's version from a "versions" list, which Spack writes only
// for abstract specs. Such a list names a set of versions, so it yields a version only when
// it holds exactly one entry that is a single version: not a range ("1.2:1.4", ":"), not a
// union ("1.2,1.4"). A leading '=' (newer Spack's "exactly this version") is dropped.
func versionFromList(vs []string) string {
	if len(vs) != 1 {
		return ""
	}
	v := strings.TrimPrefix(vs[0], "=")
	if v == "" || strings.ContainsAny(v, ":, \t\r\n") {
		return ""
	}
	return v
}

// resolve points each dependency at the node the document holds for it, matching the
// reference against every node's full_hash, build_hash and hash, or, for a reference
// without a hash, the node's name; the first node wins.
func resolve(nodes []Node) error {
	at := make(map[string]int, 3*len(nodes))
	add := func(h string, i int) {
		if h == "" {
			return
		}
		if _, ok := at[h]; !ok {
			at[h] = i
		}
	}
	for i := range nodes {
		add(nodes[i].FullHash, i)
		add(nodes[i].BuildHash, i)
		add(nodes[i].Hash, i)
	}
	var byName map[string]int // for the references of a failed concretization without a hash
	for i := range nodes {
		for j := range nodes[i].Deps {
			d := &nodes[i].Deps[j]
			if d.Ref != "" {
				if k, ok := at[d.Ref]; ok {
					d.Index = k
				}
				continue
			}
			if byName == nil {
				byName = make(map[string]int, len(nodes))
				for k := len(nodes) - 1; k >= 0; k-- {
					byName[nodes[k].Name] = k
				}
			}
			k, ok := byName[d.Name]
			if !ok {
				return fmt.Errorf("%s: dependency %d (%s) has no hash and the document has no node of that name",
					nodeLabel(i, nodes[i].Name), j, clip(d.Name))
			}
			d.Index = k
		}
	}
	return nil
}

// maxEdgesWalked bounds the work of checkDescendants: a walk looks at every edge of what it
// reaches, and a real DAG's walks look at a few edges a pair.
const maxEdgesWalked = 16 * MaxDescendants

// checkDescendants refuses a document whose DAG has a cycle, or more than MaxDescendants
// pairs of a node and a node below it, counting every edge to a dependency stored outside
// the document as a pair of its own. It walks down from every node, stamping what it
// reached, and stops when the edges it looked at pass maxEdgesWalked, so its work is
// bounded whatever the document: repeated edges to nodes already reached count too.
func checkDescendants(nodes []Node) error {
	reached := make([]int32, len(nodes))
	var stack []int
	pairs, walked := 0, 0
	for i := range nodes {
		stamp := int32(i + 1)
		reached[i] = stamp
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if walked += len(nodes[k].Deps); walked > maxEdgesWalked {
				return fmt.Errorf("spec document's DAG has too many dependency edges to walk (more than %d)", maxEdgesWalked)
			}
			for _, d := range nodes[k].Deps {
				if d.Index == i {
					// Stored, a cycle would loop every walk of the DAG.
					return fmt.Errorf("%s depends on itself, directly or not", nodeLabel(i, nodes[i].Name))
				}
				if d.Index >= 0 {
					if reached[d.Index] == stamp {
						continue
					}
					reached[d.Index] = stamp
					stack = append(stack, d.Index)
				}
				if pairs++; pairs > MaxDescendants {
					return fmt.Errorf("spec document's DAG has more than %d pairs of a node and one it depends on, directly or not", MaxDescendants)
				}
			}
		}
	}
	return nil
}

// NestingDepth is how deeply the arrays and objects of a valid JSON text nest: 0 for a
// scalar, 1 for {} or [1].
func NestingDepth(text []byte) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// nodeLabel names a node in error messages; names come from the client, so they are quoted
// and shortened.
func nodeLabel(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("node %d", i)
	}
	return fmt.Sprintf("node %d (%s)", i, clip(name))
}

func clip(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case string:
		return "a string"
	case json.Delim:
		if tok == json.Delim('[') {
			return "a list"
		}
		if tok == json.Delim('{') {
			return "an object"
		}
	}
	return fmt.Sprintf("%v", tok)
}

func syntaxError(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("spec document is not valid JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("spec document is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	return fmt.Errorf("spec document is not valid JSON: %v", err)
}

// decodeError rewrites encoding/json's errors, which name Go types, in the document's terms.
func decodeError(where string, err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		var se *json.SyntaxError
		if errors.As(err, &se) || err == io.ErrUnexpectedEOF {
			return syntaxError(err)
		}
		if where == "" {
			return err
		}
		return fmt.Errorf("%s: %v", where, err)
	}
	what := jsonKind(te.Type)
	// The path names the embedded Go struct shared by both node layouts; clients never saw it.
	field := protocolPath(strings.ReplaceAll(te.Field, "nodeJSON.", ""))
	var msg string
	if field == "" {
		msg = fmt.Sprintf("must be %s, not %s", what, article(te.Value))
	} else {
		msg = fmt.Sprintf("%q must be %s, not %s", field, what, article(te.Value))
	}
	if where == "" {
		return errors.New(msg)
	}
	return fmt.Errorf("%s %s", where, msg)
}

// memberNames are the member names of the document's objects, as the format spells them.
var memberNames = func() []string {
	var names []string
	for _, v := range []any{nodeJSON{}, v1NodeJSON{}, v2NodeJSON{}, archJSON{}, targetJSON{}, compilerJSON{}, depJSON{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
				names = append(names, name)
			}
		}
	}
	return names
}()

// protocolPath spells each member of a dotted path as the format does: encoding/json matches
// names without regard to case, and Go 1.27's errors keep the document's spelling
// ("Compiler.Name"), where 1.26's gave the format's.
func protocolPath(path string) string {
	parts := strings.Split(path, ".")
	for i, part := range parts {
		for _, name := range memberNames {
			if strings.EqualFold(part, name) {
				parts[i] = name
				break
			}
		}
	}
	return strings.Join(parts, ".")
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another type"
}

// article turns encoding/json's value descriptions ("number", "array", "number -1") into
// the words the other messages use.
func article(v string) string {
	switch {
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "string":
		return "a string"
	case v == "bool":
		return "a boolean"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return v
}
