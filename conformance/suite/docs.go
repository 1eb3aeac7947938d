package suite

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// node is one package of a generated spec document.
type node struct {
	name, version             string
	hash, fullHash, buildHash string
	deps                      []ref
}

// ref is a dependency reference as a document spells it: which key names the hash.
type ref struct {
	name, key, value string
}

// hashOf is a Spack-looking hash (32 lowercase base32 characters) unique to this run and
// label, so repeated runs against one server never share an identity.
func (r *runner) hashOf(label string) string {
	sum := sha256.Sum256([]byte(r.cfg.RunID + "/" + label))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:32]
}

// pkg is a node named conf-<run>-<label>, all three hashes distinct.
func (r *runner) pkg(label, version string, deps ...ref) node {
	return node{
		name: "conf-" + r.cfg.RunID + "-" + label, version: version,
		hash: r.hashOf(label + "/hash"), fullHash: r.hashOf(label + "/full"), buildHash: r.hashOf(label + "/build"),
		deps: deps,
	}
}

func common(n node) map[string]any {
	return map[string]any{
		"version":   n.version,
		"arch":      map[string]any{"platform": "linux", "platform_os": "debian12", "target": "x86_64_v2"},
		"compiler":  map[string]any{"name": "gcc", "version": "12.2.0"},
		"namespace": "conformance",
		"parameters": map[string]any{
			"cflags": []any{}, "cppflags": []any{}, "cxxflags": []any{}, "fflags": []any{}, "ldflags": []any{}, "ldlibs": []any{},
		},
		"hash": n.hash, "full_hash": n.fullHash, "build_hash": n.buildHash,
	}
}

// nodesDoc is a v2/v3 document: {"_meta", "nodes": [...]}, node 0 the root.
func nodesDoc(version int, nodes ...node) map[string]any {
	var list []any
	for _, n := range nodes {
		m := common(n)
		m["name"] = n.name
		if len(n.deps) > 0 {
			var deps []any
			for _, d := range n.deps {
				deps = append(deps, map[string]any{"name": d.name, d.key: d.value, "type": []any{"build", "link"}})
			}
			m["dependencies"] = deps
		}
		list = append(list, m)
	}
	return map[string]any{"_meta": map[string]any{"version": version}, "nodes": list}
}

// listDoc is the v1 layout: [{"<name>": {..., "dependencies": {"<dep>": {"hash", "type"}}}}].
func listDoc(nodes ...node) []any {
	var list []any
	for _, n := range nodes {
		m := common(n)
		if len(n.deps) > 0 {
			deps := map[string]any{}
			for _, d := range n.deps {
				deps[d.name] = map[string]any{"hash": d.value, "type": []any{"build", "run"}}
			}
			m["dependencies"] = deps
		}
		list = append(list, map[string]any{n.name: m})
	}
	return list
}

// failedDoc is what Spack v0.18 posts when concretization failed: abstract nodes without
// arch or compiler, full_hash FAILED_CONCRETIZATION.
func (r *runner) failedDoc(label string) (map[string]any, string) {
	root, dep := "conf-"+r.cfg.RunID+"-"+label, "conf-"+r.cfg.RunID+"-"+label+"-dep"
	depHash := r.hashOf(label + "/dep")
	return map[string]any{
		"_meta": map[string]any{"version": 3},
		"nodes": []any{
			map[string]any{"name": root, "versions": []any{":"}, "concrete": false,
				"dependencies": []any{map[string]any{"name": dep, "hash": depHash, "type": []any{}}},
				"hash":         r.hashOf(label + "/hash"), "full_hash": "FAILED_CONCRETIZATION"},
			map[string]any{"name": dep, "versions": []any{":"}, "concrete": false,
				"hash": depHash, "full_hash": "FAILED_CONCRETIZATION"},
		},
	}, root
}

func (r *runner) specBody(doc any) map[string]any {
	return map[string]any{"spec": doc, "spack_version": r.cfg.SpackVersion}
}
