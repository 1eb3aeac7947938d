package main

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
)

// A universe is the packages the load's spec DAGs are made of: the nodes of a real concrete
// spec (the template), each in a few copies under other names, so that a large DAG needs no
// name twice. Every DAG draws its nodes from it, so DAGs share dependencies as real
// installations do: a leaf in its most common version has the same hash in most DAGs, and a
// node's hash changes with its dependencies' (a Merkle hash, as Spack's).
type universe struct {
	packages []*pkgTemplate
}

// pkgTemplate is one package of the universe: a node of the template spec under the name of
// its copy, and the packages it depends on.
type pkgTemplate struct {
	name     string
	versions []string
	node     map[string]any // the template node, without hashes and dependencies
	deps     []pkgDep
}

type pkgDep struct {
	pkg   *pkgTemplate
	types []any
	key   string // the hash the template names the dependency by (build_hash, full_hash or hash)
}

// copies of the template's nodes under new names; with the template's 55 nodes, enough for
// the largest DAG of 150.
const copies = 3

// loadUniverse reads a spec document in Spack's v2 nodes layout ({"spec": {"nodes": [...]}}).
func loadUniverse(path string) (*universe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Spec struct {
			Nodes []map[string]any `json:"nodes"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Spec.Nodes) == 0 {
		return nil, fmt.Errorf("%s: no nodes in the v2 layout", path)
	}
	u := &universe{}
	for c := range copies {
		byName := map[string]*pkgTemplate{}
		for _, n := range doc.Spec.Nodes {
			p := templateOf(n, c)
			byName[n["name"].(string)] = p
			u.packages = append(u.packages, p)
		}
		for _, n := range doc.Spec.Nodes {
			if err := linkDeps(byName, n); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	return u, nil
}

// templateOf makes copy c of a template node: the first copy keeps the package's name, the
// others get a suffix. Each package comes in three versions: the template's and two later.
func templateOf(n map[string]any, c int) *pkgTemplate {
	name, _ := n["name"].(string)
	if c > 0 {
		name = fmt.Sprintf("%s-c%d", name, c)
	}
	version, _ := n["version"].(string)
	node := map[string]any{}
	for k, v := range n {
		switch k {
		case "hash", "full_hash", "build_hash", "dependencies":
		default:
			node[k] = v
		}
	}
	node["name"] = name
	return &pkgTemplate{name: name, node: node, versions: []string{version, version + ".1", version + ".2"}}
}

func linkDeps(byName map[string]*pkgTemplate, n map[string]any) error {
	p := byName[n["name"].(string)]
	deps, _ := n["dependencies"].([]any)
	for _, d := range deps {
		dm, _ := d.(map[string]any)
		name, _ := dm["name"].(string)
		dep, ok := byName[name]
		if !ok {
			return fmt.Errorf("node %s depends on %q, which is not a node", p.name, name)
		}
		key := "build_hash"
		for _, k := range []string{"full_hash", "hash"} {
			if _, ok := dm[k]; ok {
				key = k
			}
		}
		types, _ := dm["type"].([]any)
		p.deps = append(p.deps, pkgDep{pkg: dep, types: types, key: key})
	}
	return nil
}

// closure is the set of packages p needs, p included.
func closure(p *pkgTemplate, into map[*pkgTemplate]bool) {
	if into[p] {
		return
	}
	into[p] = true
	for _, d := range p.deps {
		closure(d.pkg, into)
	}
}

// dag is one concrete spec: its document as Spack sends it to specs/new, and the root's.
type dag struct {
	doc      map[string]any // {"_meta": {"version": 2}, "nodes": [...]}
	rootName string
	rootVer  string
	rootHash string // full_hash
	nodes    int
}

// newDAG draws a concrete spec of about size nodes (at least the size asked when the
// universe allows, never more): a bundle root, named by id, that depends on packages of the
// universe whose closures fill the size. Versions are drawn per node, mostly the first.
func (u *universe) newDAG(rng *rand.Rand, size int, id string) *dag {
	chosen := map[*pkgTemplate]bool{}
	var tops []*pkgTemplate
	for _, i := range rng.Perm(len(u.packages)) {
		p := u.packages[i]
		if chosen[p] {
			continue
		}
		c := map[*pkgTemplate]bool{}
		closure(p, c)
		added := 0
		for q := range c {
			if !chosen[q] {
				added++
			}
		}
		if len(chosen)+added > size-1 {
			continue
		}
		for q := range c {
			chosen[q] = true
		}
		tops = append(tops, p)
		if len(chosen) == size-1 {
			break
		}
	}
	c := concretizer{rng: rng, version: map[*pkgTemplate]string{}, hashes: map[*pkgTemplate]nodeHashes{}}
	var nodes []any
	root := map[string]any{}
	for k, v := range u.packages[0].node {
		root[k] = v
	}
	root["name"], root["version"] = "stack-"+tops[0].name, "1."+id
	root["parameters"] = map[string]any{"cflags": []any{}, "cppflags": []any{}, "cxxflags": []any{},
		"fflags": []any{}, "ldflags": []any{}, "ldlibs": []any{}}
	delete(root, "patches")
	var rootDeps []any
	var depHashes []string
	for _, p := range tops {
		h := c.concretize(p)
		rootDeps = append(rootDeps, map[string]any{"name": p.name, "build_hash": h.build, "type": []any{"build", "run"}})
		depHashes = append(depHashes, h.full)
	}
	rootHashes := hashNode(root["name"].(string), root["version"].(string), depHashes)
	root["dependencies"] = rootDeps
	rootHashes.set(root)
	nodes = append(nodes, root)
	order := slices.SortedFunc(maps.Keys(chosen), func(a, b *pkgTemplate) int { return strings.Compare(a.name, b.name) })
	for _, p := range order {
		nodes = append(nodes, c.node(p))
	}
	return &dag{
		doc:      map[string]any{"_meta": map[string]any{"version": 2}, "nodes": nodes},
		rootName: root["name"].(string), rootVer: root["version"].(string), rootHash: rootHashes.full,
		nodes: len(nodes),
	}
}

// concretizer picks each package's version once per DAG and hashes nodes bottom-up.
type concretizer struct {
	rng     *rand.Rand
	version map[*pkgTemplate]string
	hashes  map[*pkgTemplate]nodeHashes
}

func (c *concretizer) concretize(p *pkgTemplate) nodeHashes {
	if h, ok := c.hashes[p]; ok {
		return h
	}
	var depHashes []string
	for _, d := range p.deps {
		depHashes = append(depHashes, c.concretize(d.pkg).full)
	}
	// Most installations agree on a version: 70% the first, 20% the second, 10% the third.
	v := p.versions[0]
	switch r := c.rng.IntN(10); {
	case r == 9:
		v = p.versions[2]
	case r >= 7:
		v = p.versions[1]
	}
	c.version[p] = v
	h := hashNode(p.name, v, depHashes)
	c.hashes[p] = h
	return h
}

// node is p's node of the document, once concretized.
func (c *concretizer) node(p *pkgTemplate) map[string]any {
	n := make(map[string]any, len(p.node)+4)
	for k, v := range p.node {
		n[k] = v
	}
	n["version"] = c.version[p]
	if len(p.deps) > 0 {
		deps := make([]any, 0, len(p.deps))
		for _, d := range p.deps {
			h := c.hashes[d.pkg]
			deps = append(deps, map[string]any{"name": d.pkg.name, d.key: h.byKey(d.key), "type": d.types})
		}
		n["dependencies"] = deps
	}
	c.hashes[p].set(n)
	return n
}

type nodeHashes struct{ full, build, dag string }

var hashEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// hashNode derives a node's three hashes from what it is and what it depends on, 32
// characters of base32 each like Spack's.
func hashNode(name, version string, depHashes []string) nodeHashes {
	sum := sha256.Sum256([]byte(name + "@" + version + "^" + strings.Join(depHashes, ",")))
	full := hashEncoding.EncodeToString(sum[:])[:32]
	derive := func(kind string) string {
		s := sha256.Sum256([]byte(kind + full))
		return hashEncoding.EncodeToString(s[:])[:32]
	}
	return nodeHashes{full: full, build: derive("build"), dag: derive("dag")}
}

func (h nodeHashes) byKey(key string) string {
	switch key {
	case "full_hash":
		return h.full
	case "hash":
		return h.dag
	}
	return h.build
}

func (h nodeHashes) set(n map[string]any) {
	n["full_hash"], n["build_hash"], n["hash"] = h.full, h.build, h.dag
}
