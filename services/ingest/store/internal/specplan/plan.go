// Package specplan turns a spec document into the rows a store must have for it, so that
// both store implementations decide the same things the same way and differ only in SQL.
//
// A store first looks up every spec the document names (Lookups), hands what it found to
// Resolve, and is done if the Resolution is Complete (a repeat upload). Otherwise it
// writes what Writes lists, in one transaction, and answers with Answer.
package specplan

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// Key identifies a spec within one spack version: its name and its identity hash (the
// value of the specs.full_hash column).
type Key struct {
	Name string `json:"n"`
	Hash string `json:"h"`
}

// Row is what a store found for a Key or a DAG-hash lookup.
type Row struct {
	ID       int64
	Name     string
	FullHash string
	Hash     string
	Version  string
	Stub     bool
	Failed   bool
	HasDeps  bool
}

// Key is the row's identity.
func (r Row) Key() Key { return Key{r.Name, r.FullHash} }

// Plan is a document reduced to distinct specs, stubs and edges.
type Plan struct {
	spackVersion string
	nodes        []node // distinct by key, in document order; nodes[0] is the root
	stubs        []Key  // references to nodes outside the document, distinct
	edges        []edge
	rootDeps     []rootDep
}

type node struct {
	key Key
	// hashOnly: the document gave no full hash, so an existing spec with the same name and
	// DAG hash is this node even though its identity hash differs.
	hashOnly bool
	src      *spackspec.Node
	failed   bool
	hasEdges bool
}

// edge is a dependency. child indexes nodes, or stubs when stub is set.
type edge struct {
	parent   int
	child    int
	stub     bool
	types    string
	position int
}

type rootDep struct {
	child int
	stub  bool
	types []string
}

// New plans doc for spackVersion. The service has validated doc (spackspec.Parse refuses a
// document without nodes, a node without a name or hash, a dependency without either); the
// refusals here are the store's own integrity checks: a node without its key would be a row
// no look-up can find, so the plan is never made for one.
func New(spackVersion string, doc *spackspec.Document) (*Plan, error) {
	if doc == nil || len(doc.Nodes) == 0 {
		return nil, errs.New(errs.BadRequest, "The spec document has no nodes.")
	}
	p := &Plan{spackVersion: spackVersion}
	nodeOf, err := p.addNodes(doc)
	if err != nil {
		return nil, err
	}
	if err := p.addEdges(doc, nodeOf); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Plan) addNodes(doc *spackspec.Document) ([]int, error) {
	nodeOf := make([]int, len(doc.Nodes))
	seen := make(map[Key]int, len(doc.Nodes))
	for i := range doc.Nodes {
		n := &doc.Nodes[i]
		key, err := nodeKey(n)
		if err != nil {
			return nil, err
		}
		if j, ok := seen[key]; ok {
			nodeOf[i] = j
			continue
		}
		seen[key] = len(p.nodes)
		nodeOf[i] = len(p.nodes)
		p.nodes = append(p.nodes, node{
			key:      key,
			hashOnly: n.FullHash == "" && n.Hash != "",
			src:      n,
			failed:   doc.FailedConcretization,
		})
	}
	return nodeOf, nil
}

func nodeKey(n *spackspec.Node) (Key, error) {
	if n.Name == "" {
		return Key{}, errs.New(errs.BadRequest, "A spec node has no name.")
	}
	h := n.Key()
	if h == "" {
		return Key{}, errs.New(errs.BadRequest, "Spec node %s has no hash.", n.Name)
	}
	return Key{n.Name, h}, nil
}

func (p *Plan) addEdges(doc *spackspec.Document, nodeOf []int) error {
	stubOf := map[Key]int{}
	done := make([]bool, len(p.nodes))
	for i := range doc.Nodes {
		parent := nodeOf[i]
		if done[parent] {
			continue // a repeated node: its first occurrence gave the edges
		}
		done[parent] = true
		seen := map[edge]bool{}
		for pos, d := range doc.Nodes[i].Deps {
			e := edge{parent: parent, types: strings.Join(d.Types, ","), position: pos}
			if d.Index >= 0 && d.Index < len(nodeOf) {
				e.child = nodeOf[d.Index]
			} else {
				if d.Name == "" || d.Ref == "" {
					return errs.New(errs.BadRequest, "A dependency of %s has no name or hash.", doc.Nodes[i].Name)
				}
				k := Key{d.Name, d.Ref}
				j, ok := stubOf[k]
				if !ok {
					j = len(p.stubs)
					stubOf[k] = j
					p.stubs = append(p.stubs, k)
				}
				e.child, e.stub = j, true
			}
			id := edge{child: e.child, stub: e.stub}
			if seen[id] {
				continue
			}
			seen[id] = true
			p.edges = append(p.edges, e)
			p.nodes[parent].hasEdges = true
			if parent == 0 {
				p.rootDeps = append(p.rootDeps, rootDep{child: e.child, stub: e.stub, types: d.Types})
			}
		}
	}
	return nil
}

// SpackVersion is the spack version the plan is for.
func (p *Plan) SpackVersion() string { return p.spackVersion }

// Lookups lists what the store must look for: rows by identity (name, full_hash), and
// non-stub rows by DAG hash (name, hash) for nodes and references that may name an
// existing spec by its DAG hash.
func (p *Plan) Lookups() (byKey, byHash []Key) {
	for _, n := range p.nodes {
		byKey = append(byKey, n.key)
		if n.hashOnly {
			byHash = append(byHash, Key{n.key.Name, n.src.Hash})
		}
	}
	byKey = append(byKey, p.stubs...)
	byHash = append(byHash, p.stubs...)
	return byKey, byHash
}

// Resolution is a plan matched against what the store holds.
type Resolution struct {
	plan  *Plan
	nodes []*Row // per plan node, nil when not stored
	stubs []*Row // per stub reference, nil when not stored
}

// Resolve matches the plan against rows, the answers to Lookups (in any order, duplicates
// allowed).
func (p *Plan) Resolve(rows []Row) *Resolution {
	byKey := make(map[Key]*Row, len(rows))
	byHash := make(map[Key]*Row, len(rows))
	for i := range rows {
		r := &rows[i]
		byKey[r.Key()] = r
		if r.Stub || r.Hash == "" {
			continue
		}
		// Several specs may share a DAG hash; the oldest one wins, every time.
		hk := Key{r.Name, r.Hash}
		if old, ok := byHash[hk]; !ok || r.ID < old.ID {
			byHash[hk] = r
		}
	}
	res := &Resolution{plan: p, nodes: make([]*Row, len(p.nodes)), stubs: make([]*Row, len(p.stubs))}
	for i, n := range p.nodes {
		res.nodes[i] = byKey[n.key]
		if res.nodes[i] == nil && n.hashOnly {
			res.nodes[i] = byHash[Key{n.key.Name, n.src.Hash}]
		}
	}
	for i, k := range p.stubs {
		res.stubs[i] = byKey[k]
		if res.stubs[i] == nil {
			res.stubs[i] = byHash[k]
		}
	}
	return res
}

// Complete reports whether the store already holds everything: every node as a full
// (non-stub) spec, every reference, and the edges of every node that has dependencies.
func (r *Resolution) Complete() bool {
	for i, row := range r.nodes {
		if row == nil || row.Stub || (r.plan.nodes[i].hasEdges && !row.HasDeps) {
			return false
		}
	}
	for _, row := range r.stubs {
		if row == nil {
			return false
		}
	}
	return true
}

func (r *Resolution) nodeKey(i int) Key {
	if row := r.nodes[i]; row != nil {
		return row.Key()
	}
	return r.plan.nodes[i].key
}

func (r *Resolution) stubKey(i int) Key {
	if row := r.stubs[i]; row != nil {
		return row.Key()
	}
	return r.plan.stubs[i]
}

func (r *Resolution) childKey(child int, stub bool) Key {
	if stub {
		return r.stubKey(child)
	}
	return r.nodeKey(child)
}

// RootKey is the identity the root is stored under.
func (r *Resolution) RootKey() Key { return r.nodeKey(0) }

// AnswerKeys are the specs Answer needs rows for: the root and its direct dependencies.
func (r *Resolution) AnswerKeys() []Key {
	keys := []Key{r.RootKey()}
	for _, d := range r.plan.rootDeps {
		keys = append(keys, r.childKey(d.child, d.stub))
	}
	return keys
}

// Answer builds PutSpec's result from the rows of AnswerKeys. created tells whether this
// call created (or filled in) the root.
func (r *Resolution) Answer(rows []Row, created bool) (store.SpecResult, error) {
	byKey := make(map[Key]Row, len(rows))
	for _, row := range rows {
		byKey[row.Key()] = row
	}
	root, ok := byKey[r.RootKey()]
	if !ok {
		return store.SpecResult{}, fmt.Errorf("spec %v missing after it was stored", r.RootKey())
	}
	res := store.SpecResult{
		ID:           root.ID,
		Name:         root.Name,
		Version:      root.Version,
		FullHash:     reportedHash(root),
		SpackVersion: r.plan.spackVersion,
		Created:      created,
		Deps:         make([]store.SpecLink, 0, len(r.plan.rootDeps)),
	}
	for _, d := range r.plan.rootDeps {
		k := r.childKey(d.child, d.stub)
		child, ok := byKey[k]
		if !ok {
			return store.SpecResult{}, fmt.Errorf("spec %v missing after it was stored", k)
		}
		res.Deps = append(res.Deps, store.SpecLink{
			Name: child.Name, FullHash: reportedHash(child), Version: child.Version, Types: d.types,
		})
	}
	return res, nil
}

// reportedHash is the full hash a client is shown: Spack expects the FAILED_CONCRETIZATION
// marker back for abstract specs, which are stored under their abstract DAG hash.
func reportedHash(r Row) string {
	if r.Failed {
		return spackspec.FailedConcretization
	}
	return r.FullHash
}

// Writes is what a store must write to hold the document.
type Writes struct {
	Targets   []Target
	Compilers []Compiler
	Archs     []Arch
	// Inserts are the specs to create (stubs included), sorted by key so that concurrent
	// writers take row locks in the same order. Fills are the nodes whose rows were found
	// to be stubs, to complete. A store whose look-up may be stale by the time it writes
	// (PostgreSQL) also tries the real nodes of Inserts as fills: another writer may have
	// made them stubs in between.
	Inserts []Spec
	Fills   []Spec
	// Edges are the dependencies of the specs that have none stored yet (a spec's
	// dependencies are written once, never changed), sorted by parent then child.
	Edges []Edge
}

// Target is a microarchitecture.
type Target struct {
	Name       string `json:"name"`
	Vendor     string `json:"vendor"`
	Generation int    `json:"generation"`
	Features   string `json:"features"` // JSON array
	Parents    string `json:"parents"`  // JSON array
}

// Compiler is a compiler name and version.
type Compiler struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Arch is an architecture, its target named.
type Arch struct {
	Platform   string `json:"platform"`
	PlatformOS string `json:"os"`
	Target     string `json:"target"`
}

// Spec is a spec row to write. Compiler and Arch are nil when the node has none.
type Spec struct {
	Key
	Hash        string    `json:"hash"`
	BuildHash   string    `json:"build_hash"`
	PackageHash string    `json:"package_hash"`
	Namespace   string    `json:"namespace"`
	Version     string    `json:"version"`
	Compiler    *Compiler `json:"compiler"`
	Arch        *Arch     `json:"arch"`
	Parameters  *string   `json:"parameters"` // JSON text
	Failed      bool      `json:"failed"`
	Stub        bool      `json:"stub"`
}

// Edge is a dependency between two specs named by key.
type Edge struct {
	Parent   Key    `json:"p"`
	Child    Key    `json:"c"`
	Types    string `json:"types"`
	Position int    `json:"pos"`
}

// Writes lists what is missing.
func (r *Resolution) Writes() Writes {
	var w Writes
	targets := map[string]Target{}
	compilers := map[Compiler]bool{}
	archs := map[Arch]bool{}
	for i, n := range r.plan.nodes {
		row := r.nodes[i]
		if row != nil && !row.Stub {
			continue
		}
		s := specRow(r.nodeKey(i), n)
		if s.Compiler != nil {
			compilers[*s.Compiler] = true
		}
		if s.Arch != nil {
			archs[*s.Arch] = true
			addTarget(targets, n.src.Arch.Target)
		}
		if row == nil {
			w.Inserts = append(w.Inserts, s)
		} else {
			w.Fills = append(w.Fills, s)
		}
	}
	for i, k := range r.plan.stubs {
		if r.stubs[i] == nil {
			w.Inserts = append(w.Inserts, Spec{Key: k, Stub: true})
		}
	}
	w.Inserts = dedupeSpecs(w.Inserts)
	w.Fills = dedupeSpecs(w.Fills)
	w.Edges = r.missingEdges()
	w.Targets = sortedTargets(targets)
	w.Compilers = sortedKeys(compilers, func(a, b Compiler) bool {
		return a.Name < b.Name || (a.Name == b.Name && a.Version < b.Version)
	})
	w.Archs = sortedKeys(archs, func(a, b Arch) bool {
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.PlatformOS != b.PlatformOS {
			return a.PlatformOS < b.PlatformOS
		}
		return a.Target < b.Target
	})
	return w
}

func specRow(k Key, n node) Spec {
	src := n.src
	s := Spec{
		Key: k, Hash: src.Hash, BuildHash: src.BuildHash, PackageHash: src.PackageHash,
		Namespace: src.Namespace, Version: src.Version, Failed: n.failed,
	}
	if src.Compiler != nil && src.Compiler.Name != "" {
		s.Compiler = &Compiler{src.Compiler.Name, src.Compiler.Version}
	}
	if src.Arch != nil {
		s.Arch = &Arch{src.Arch.Platform, src.Arch.PlatformOS, src.Arch.Target.Name}
	}
	if len(src.Parameters) > 0 && string(src.Parameters) != "null" {
		params := string(src.Parameters)
		s.Parameters = &params
	}
	return s
}

func (r *Resolution) missingEdges() []Edge {
	var edges []Edge
	seen := map[[2]Key]bool{}
	for _, e := range r.plan.edges {
		if row := r.nodes[e.parent]; row != nil && row.HasDeps {
			continue
		}
		ed := Edge{Parent: r.nodeKey(e.parent), Child: r.childKey(e.child, e.stub), Types: e.types, Position: e.position}
		pair := [2]Key{ed.Parent, ed.Child}
		if seen[pair] || ed.Parent == ed.Child {
			continue
		}
		seen[pair] = true
		edges = append(edges, ed)
	}
	sort.Slice(edges, func(i, j int) bool {
		a, b := edges[i], edges[j]
		if a.Parent != b.Parent {
			return keyLess(a.Parent, b.Parent)
		}
		return keyLess(a.Child, b.Child)
	})
	return edges
}

// addTarget keeps, per name, the most detailed description seen: a node may give its
// target as a bare name while another gives the whole object.
func addTarget(targets map[string]Target, t spackspec.Target) {
	old, ok := targets[t.Name]
	if ok && (old.Vendor != "" || t.Vendor == "") {
		return
	}
	targets[t.Name] = Target{
		Name: t.Name, Vendor: t.Vendor, Generation: t.Generation,
		Features: jsonList(t.Features), Parents: jsonList(t.Parents),
	}
}

func jsonList(items []string) string {
	if len(items) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(items)
	return string(b)
}

func dedupeSpecs(specs []Spec) []Spec {
	sort.SliceStable(specs, func(i, j int) bool { return keyLess(specs[i].Key, specs[j].Key) })
	var out []Spec
	for _, s := range specs {
		if len(out) > 0 && out[len(out)-1].Key == s.Key {
			continue
		}
		out = append(out, s)
	}
	return out
}

func keyLess(a, b Key) bool {
	return a.Name < b.Name || (a.Name == b.Name && a.Hash < b.Hash)
}

func sortedTargets(m map[string]Target) []Target {
	out := make([]Target, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortedKeys[K comparable](m map[K]bool, less func(a, b K) bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// WasWritten reports whether the root's key is among keys (rows a store inserted or
// filled in).
func (r *Resolution) WasWritten(keys []Key) bool {
	root := r.RootKey()
	for _, k := range keys {
		if k == root {
			return true
		}
	}
	return false
}
