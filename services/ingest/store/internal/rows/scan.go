package rows

import (
	"time"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/specplan"
)

// Scanner is a result row of either driver: pgx.Row, pgx.CollectableRow, *sql.Row and
// *sql.Rows all have this method.
type Scanner interface {
	Scan(dest ...any) error
}

// BuildColumns selects a store.Build, without its tags and phases, for ScanBuild: from
// builds b, specs s and build_environments e.
const BuildColumns = `
SELECT b.id, b.status, b.owner, b.created_at, b.updated_at, b.finished_at,
       s.full_hash, s.name, s.version, s.spack_version,
       c.name, c.version, a.platform, a.platform_os, t.name,
       e.hostname, e.kernel_version, e.host_os, e.host_target, e.platform
FROM builds b
JOIN specs s ON s.id = b.spec_id
JOIN build_environments e ON e.id = b.env_id
LEFT JOIN compilers c ON c.id = s.compiler_id
LEFT JOIN architectures a ON a.id = s.arch_id
LEFT JOIN targets t ON t.id = a.target_id`

// ScanBuild reads a row of BuildColumns; Tags and Phases are empty, not nil. T is what the
// driver reads a stored time as (time.Time from a PostgreSQL timestamptz, string from
// SQLite's text), toTime makes a UTC time of it.
func ScanBuild[T any](r Scanner, toTime func(T) (time.Time, error)) (store.Build, error) {
	var b store.Build
	var compiler, compilerVersion, platform, platformOS, target *string
	var created, updated T
	var finished *T
	err := r.Scan(&b.ID, &b.Status, &b.Owner, &created, &updated, &finished,
		&b.Spec.FullHash, &b.Spec.Name, &b.Spec.Version, &b.Spec.SpackVersion,
		&compiler, &compilerVersion, &platform, &platformOS, &target,
		&b.Env.Hostname, &b.Env.KernelVersion, &b.Env.HostOS, &b.Env.HostTarget, &b.Env.Platform)
	if err != nil {
		return b, err
	}
	b.Spec.Compiler = Compiler(compiler, compilerVersion)
	b.Spec.Arch = Arch(platform, platformOS, target)
	b.Tags, b.Phases = []string{}, []store.PhaseInfo{}
	if b.CreatedAt, err = toTime(created); err != nil {
		return b, err
	}
	if b.UpdatedAt, err = toTime(updated); err != nil {
		return b, err
	}
	if finished != nil {
		t, err := toTime(*finished)
		if err != nil {
			return b, err
		}
		b.FinishedAt = &t
	}
	return b, nil
}

// SpecColumns selects a store.Spec, without its links, for ScanSpec: from specs s.
const SpecColumns = `
SELECT s.id, s.name, s.version, s.spack_version, s.full_hash, s.hash, s.build_hash, s.package_hash,
       s.namespace, c.name, c.version, a.platform, a.platform_os, t.name, s.parameters,
       s.failed_concretization, s.stub, s.created_at
FROM specs s
LEFT JOIN compilers c ON c.id = s.compiler_id
LEFT JOIN architectures a ON a.id = s.arch_id
LEFT JOIN targets t ON t.id = a.target_id`

// ScanSpec reads a row of SpecColumns, with stored times as in ScanBuild.
func ScanSpec[T any](r Scanner, toTime func(T) (time.Time, error)) (store.Spec, error) {
	var sp store.Spec
	var compiler, compilerVersion, platform, platformOS, target, params *string
	var created T
	err := r.Scan(&sp.ID, &sp.Name, &sp.Version, &sp.SpackVersion, &sp.FullHash, &sp.Hash, &sp.BuildHash,
		&sp.PackageHash, &sp.Namespace, &compiler, &compilerVersion, &platform, &platformOS, &target, &params,
		&sp.FailedConcretization, &sp.Stub, &created)
	if err != nil {
		return sp, err
	}
	sp.Compiler = Compiler(compiler, compilerVersion)
	sp.Arch = Arch(platform, platformOS, target)
	if params != nil {
		sp.Parameters = *params
	}
	sp.CreatedAt, err = toTime(created)
	return sp, err
}

// ScanLink reads a dependency edge seen from one end: the other spec's name, full_hash
// and version, and the edge's types.
func ScanLink(r Scanner) (store.SpecLink, error) {
	var l store.SpecLink
	var types string
	err := r.Scan(&l.Name, &l.FullHash, &l.Version, &types)
	l.Types = Types(types)
	return l, err
}

// EventColumns selects events with the names of their phases, for ScanEvent: from phases
// p and phase_events e.
const EventColumns = `
SELECT p.name, e.kind, e.line_no, e.text, e.source_file, e.source_line, e.pre_context, e.post_context,
       e.start_line, e.end_line
FROM phases p JOIN phase_events e ON e.phase_id = p.id`

// ScanEvent reads a row of EventColumns.
func ScanEvent(r Scanner) (store.PhaseEvent, error) {
	var e store.PhaseEvent
	var kind string
	err := r.Scan(&e.Phase, &kind, &e.LineNo, &e.Text, &e.SourceFile, &e.SourceLine, &e.PreContext, &e.PostContext, &e.Start, &e.End)
	e.Kind = logparse.Kind(kind)
	return e, err
}

// ScanOutput reads a phase's output, output_null and output_bytes. An empty log may come
// back as nil, which only a null log does here.
func ScanOutput(r Scanner) (store.PhaseOutput, error) {
	var out store.PhaseOutput
	err := r.Scan(&out.Compressed, &out.Null, &out.Bytes)
	if err == nil && out.Compressed == nil && !out.Null {
		out.Compressed = []byte{}
	}
	return out, err
}

// ScanPlanRow reads a row of a spec look-up: id, name, full_hash, hash, version, stub,
// failed_concretization, and whether the spec has dependencies stored.
func ScanPlanRow(r Scanner) (specplan.Row, error) {
	var row specplan.Row
	err := r.Scan(&row.ID, &row.Name, &row.FullHash, &row.Hash, &row.Version, &row.Stub, &row.Failed, &row.HasDeps)
	return row, err
}

// ScanKey reads a spec's name and full_hash.
func ScanKey(r Scanner) (specplan.Key, error) {
	var k specplan.Key
	return k, r.Scan(&k.Name, &k.Hash)
}
