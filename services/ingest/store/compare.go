package store

import "context"

// DAGReader reads the whole dependency DAG of a build's spec, for build compare.
type DAGReader interface {
	// BuildDAG returns the nodes of build buildID's spec DAG, root included (depth 0), each
	// once at its fewest edges from the root, at most MaxDAGNodes+1 of them (one more tells
	// the DAG was cut), by depth then name (errs.NotFound for an unknown build).
	BuildDAG(ctx context.Context, buildID int64) ([]DAGNode, error)
}

// MaxDAGNodes bounds the nodes of a DAG compared: Spack stacks reach a few hundred.
const MaxDAGNodes = 5000

// DAGNode is one package of a DAG.
type DAGNode struct {
	Name       string
	Version    string
	FullHash   string
	Compiler   string // name@version, "" when unknown
	Parameters string // JSON text, "" when none
	Depth      int
}
