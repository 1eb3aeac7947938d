// Package spackspec reads the spec documents Spack produces (PROTOCOL.md §4) into one model.
//
// Every layout — the v1 list of single-key objects, the v2/v3 "nodes" object, either of them
// wrapped in an extra {"spec": ...}, and failed-concretization documents — becomes a Document
// whose node 0 is the root and whose dependency references are already resolved to indexes
// into Nodes where the referenced node is in the document.
package spackspec

import "encoding/json"

// FailedConcretization is the full_hash Spack v0.18 sends for abstract nodes of a spec it
// could not concretize.
const FailedConcretization = "FAILED_CONCRETIZATION"

// Document is a parsed spec document. Nodes[0] is the root.
type Document struct {
	Nodes []Node
	// FailedConcretization is set when the document's nodes are abstract (Spack v0.18
	// sends such a document when concretization fails): some node or reference carries
	// the FailedConcretization marker, or a node says "concrete": false.
	FailedConcretization bool
}

// Node is one package of the DAG.
type Node struct {
	Name      string
	Version   string // "" when the node has none, e.g. its "versions" list is a range (see versionFromList)
	Namespace string
	Hash      string // DAG hash
	FullHash  string // "" when the document has none (v0.18 spec.json); never FAILED_CONCRETIZATION
	// ContentKey identifies an abstract node of a failed concretization sent without any
	// hash: a digest of the document, the node's name and its constraints, so that the
	// same document sent again names the same node and another one does not.
	ContentKey  string
	BuildHash   string
	PackageHash string
	Arch        *Arch     // nil when absent
	Compiler    *Compiler // nil when absent
	// Parameters is the node's "parameters" object as sent without the white space between
	// its tokens, or nil.
	Parameters json.RawMessage
	Deps       []Dep
}

// Key is the value that identifies the node together with its name and the spack version:
// its full hash, or its DAG hash when the document carries no full hash, or its content
// key when it carries no hash at all.
func (n *Node) Key() string {
	return firstOf(n.FullHash, n.Hash, n.ContentKey)
}

// Arch is a node's architecture.
type Arch struct {
	Platform   string
	PlatformOS string
	Target     Target
}

// Target is a microarchitecture; only Name is set when the document gave a bare string.
type Target struct {
	Name       string
	Vendor     string
	Generation int
	Features   []string
	Parents    []string
}

// Compiler is a node's compiler.
type Compiler struct {
	Name    string
	Version string
}

// Dep is one dependency edge of a node.
type Dep struct {
	Name string
	// Ref is the hash the document used to name the dependency (full_hash, build_hash or
	// hash, whichever it gave); "" for a dependency of a failed concretization sent by name
	// alone, which names the document's node of that name.
	Ref string
	// Index is the position in Document.Nodes of the node Ref names, or -1 when the node is
	// not in the document (then the dependency is stored as a stub keyed by Ref).
	Index int
	Types []string
}
