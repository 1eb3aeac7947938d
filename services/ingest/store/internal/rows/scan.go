package rows

import (
	"math"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/specplan"
)

// Scanner is a result row of either driver: pgx.Row, pgx.CollectableRow, *sql.Row and
// *sql.Rows all have this method.
type Scanner interface {
	Scan(dest ...any) error
}

// A Reader reads rows of one shape, for one query at a time. It scans every row into the
// same variables, made once, so that a row costs no allocations beyond what the driver
// makes; the values it returns share nothing with those variables.
type Reader[T any] struct {
	dest  []any
	value func() (T, error)
}

// Scan reads the row r.
func (rd Reader[T]) Scan(r Scanner) (T, error) {
	if err := r.Scan(rd.dest...); err != nil {
		var zero T
		return zero, err
	}
	return rd.value()
}

// BuildColumns selects a store.Build, without its tags and phases, for Builds: from
// builds b, specs s and build_environments e.
const BuildColumns = `
SELECT b.id, b.status, b.owner, b.owner_key, b.created_at, b.updated_at, b.finished_at,
       s.full_hash, s.hash, s.name, s.version, s.spack_version,
       c.name, c.version, a.platform, a.platform_os, t.name,
       e.hostname, e.kernel_version, e.host_os, e.host_target, e.platform,
       COALESCE(cb.source, 'ms1'), COALESCE(cb.project, ''), COALESCE(cb.site, ''),
       COALESCE(cb.build_name, ''), COALESCE(cb.stamp, ''), COALESCE(cb.track, ''),
       COALESCE(cb.generator, ''), COALESCE(cb.compiler_name, ''), COALESCE(cb.compiler_version, ''),
       COALESCE(cb.os_name, ''), COALESCE(cb.os_release, ''), COALESCE(cb.os_version, ''),
       COALESCE(cb.os_platform, ''), COALESCE(cb.revision, ''), COALESCE(cb.update_status, ''),
       COALESCE(cb.package, ''),
       (SELECT count(*) FROM build_tests bt WHERE bt.build_id = b.id AND bt.status = 'passed'),
       (SELECT count(*) FROM build_tests bt WHERE bt.build_id = b.id AND bt.status = 'failed'),
       (SELECT count(*) FROM build_tests bt WHERE bt.build_id = b.id AND bt.status = 'notrun')
FROM builds b
JOIN specs s ON s.id = b.spec_id
JOIN build_environments e ON e.id = b.env_id
LEFT JOIN compilers c ON c.id = s.compiler_id
LEFT JOIN architectures a ON a.id = s.arch_id
LEFT JOIN targets t ON t.id = a.target_id
LEFT JOIN cdash_builds cb ON cb.build_id = b.id`

// Builds reads rows of BuildColumns; Tags and Phases are empty, not nil. T is what the
// driver reads a stored time as (time.Time from a PostgreSQL timestamptz, string from
// SQLite's text), toTime makes a UTC time of it.
func Builds[T any](toTime func(T) (time.Time, error)) Reader[store.Build] {
	v := new(struct {
		b                                                       store.Build
		compiler, compilerVersion, platform, platformOS, target *string
		created, updated                                        T
		finished                                                *T
		ownerKey                                                string
		cdash                                                   store.CDashBuild
	})
	return Reader[store.Build]{
		dest: []any{&v.b.ID, &v.b.Status, &v.b.Owner, &v.ownerKey, &v.created, &v.updated, &v.finished,
			&v.b.Spec.FullHash, &v.b.Spec.Hash, &v.b.Spec.Name, &v.b.Spec.Version, &v.b.Spec.SpackVersion,
			&v.compiler, &v.compilerVersion, &v.platform, &v.platformOS, &v.target,
			&v.b.Env.Hostname, &v.b.Env.KernelVersion, &v.b.Env.HostOS, &v.b.Env.HostTarget, &v.b.Env.Platform,
			&v.b.Source, &v.cdash.Project, &v.cdash.Site, &v.cdash.BuildName, &v.cdash.Stamp, &v.cdash.Track,
			&v.cdash.Generator, &v.cdash.CompilerName, &v.cdash.CompilerVersion, &v.cdash.OSName, &v.cdash.OSRelease,
			&v.cdash.OSVersion, &v.cdash.OSPlatform, &v.cdash.Revision, &v.cdash.UpdateStatus, &v.cdash.Package,
			&v.b.TestsPassed, &v.b.TestsFailed, &v.b.TestsNotRun},
		value: func() (store.Build, error) {
			b := v.b
			if b.Source != store.SourceMS1 {
				c := v.cdash
				c.Source = b.Source
				b.CDash = &c
			}
			b.OwnerID = store.OwnerIDOf(v.ownerKey)
			b.Spec.Compiler = Compiler(v.compiler, v.compilerVersion)
			b.Spec.Arch = Arch(v.platform, v.platformOS, v.target)
			b.Tags, b.Phases = []string{}, []store.PhaseInfo{}
			var err error
			if b.CreatedAt, err = toTime(v.created); err != nil {
				return b, err
			}
			if b.UpdatedAt, err = toTime(v.updated); err != nil {
				return b, err
			}
			if v.finished != nil {
				t, err := toTime(*v.finished)
				if err != nil {
					return b, err
				}
				b.FinishedAt = &t
			}
			return b, nil
		},
	}
}

// Iter is a result set of either driver, read row by row: pgx.Rows and *sql.Rows.
type Iter interface {
	Scanner
	Next() bool
	Err() error
}

// Page is a page of builds, read with Builds, to which their tags and phases are added
// as they are read. The zero Page is ready once Builds is set.
type Page struct {
	Builds []store.Build

	index     map[int64]int
	id        int64
	tag       string
	phase     store.PhaseInfo
	tagDest   []any
	phaseDest []any
}

// IDs are the ids of the page's builds.
func (p *Page) IDs() []int64 {
	ids := make([]int64, len(p.Builds))
	for i, b := range p.Builds {
		ids[i] = b.ID
	}
	return ids
}

func (p *Page) build() *store.Build {
	if p.index == nil {
		p.index = make(map[int64]int, len(p.Builds))
		for i, b := range p.Builds {
			p.index[b.ID] = i
		}
	}
	if i, ok := p.index[p.id]; ok {
		return &p.Builds[i]
	}
	return nil
}

// AddTags reads rows of build_id and tag name, each build's in the order to show.
func (p *Page) AddTags(rs Iter) error {
	if p.tagDest == nil {
		p.tagDest = []any{&p.id, &p.tag}
	}
	for rs.Next() {
		if err := rs.Scan(p.tagDest...); err != nil {
			return err
		}
		if b := p.build(); b != nil {
			b.Tags = append(b.Tags, p.tag)
		}
	}
	return rs.Err()
}

// AddPhases reads rows of build_id, name, status, output_bytes, error_count,
// warning_count, errors_total and warnings_total from phases, each build's in the order to
// show.
func (p *Page) AddPhases(rs Iter) error {
	if p.phaseDest == nil {
		ph := &p.phase
		p.phaseDest = []any{&p.id, &ph.Name, &ph.Status, &ph.OutputBytes, &ph.ErrorCount, &ph.WarningCount, &ph.ErrorsTotal, &ph.WarningsTotal}
	}
	for rs.Next() {
		if err := rs.Scan(p.phaseDest...); err != nil {
			return err
		}
		if b := p.build(); b != nil {
			b.Phases = append(b.Phases, p.phase)
		}
	}
	return rs.Err()
}

// SpecColumns selects a store.Spec, without its links, for Specs: from specs s.
const SpecColumns = `
SELECT s.id, s.name, s.version, s.spack_version, s.full_hash, s.hash, s.build_hash, s.package_hash,
       s.namespace, c.name, c.version, a.platform, a.platform_os, t.name, s.parameters,
       s.failed_concretization, s.stub, s.created_at
FROM specs s
LEFT JOIN compilers c ON c.id = s.compiler_id
LEFT JOIN architectures a ON a.id = s.arch_id
LEFT JOIN targets t ON t.id = a.target_id`

// Specs reads rows of SpecColumns, with stored times as in Builds.
func Specs[T any](toTime func(T) (time.Time, error)) Reader[store.Spec] {
	v := new(struct {
		sp                                                              store.Spec
		compiler, compilerVersion, platform, platformOS, target, params *string
		created                                                         T
	})
	return Reader[store.Spec]{
		dest: []any{&v.sp.ID, &v.sp.Name, &v.sp.Version, &v.sp.SpackVersion, &v.sp.FullHash, &v.sp.Hash,
			&v.sp.BuildHash, &v.sp.PackageHash, &v.sp.Namespace, &v.compiler, &v.compilerVersion, &v.platform,
			&v.platformOS, &v.target, &v.params, &v.sp.FailedConcretization, &v.sp.Stub, &v.created},
		value: func() (store.Spec, error) {
			sp := v.sp
			sp.Compiler = Compiler(v.compiler, v.compilerVersion)
			sp.Arch = Arch(v.platform, v.platformOS, v.target)
			if v.params != nil {
				sp.Parameters = *v.params
			}
			var err error
			sp.CreatedAt, err = toTime(v.created)
			return sp, err
		},
	}
}

// Links reads dependency edges seen from one end: the other spec's name, full_hash and
// version, and the edge's types.
func Links() Reader[store.SpecLink] {
	v := new(struct {
		l     store.SpecLink
		types string
	})
	return Reader[store.SpecLink]{
		dest: []any{&v.l.Name, &v.l.FullHash, &v.l.Version, &v.types},
		value: func() (store.SpecLink, error) {
			l := v.l
			l.Types = Types(v.types)
			return l, nil
		},
	}
}

// OwnedLink is a dependency edge seen from the spec SpecID.
type OwnedLink struct {
	SpecID int64
	Link   store.SpecLink
}

// OwnedLinks reads Links led by the id of the spec they are seen from.
func OwnedLinks() Reader[OwnedLink] {
	v := new(struct {
		o     OwnedLink
		types string
	})
	return Reader[OwnedLink]{
		dest: []any{&v.o.SpecID, &v.o.Link.Name, &v.o.Link.FullHash, &v.o.Link.Version, &v.types},
		value: func() (OwnedLink, error) {
			o := v.o
			o.Link.Types = Types(v.types)
			return o, nil
		},
	}
}

// AttachDeps gives each spec its dependencies from the owned links, in their order; a spec
// without any gets an empty list, as from GetSpec.
func AttachDeps(specs []store.Spec, deps []OwnedLink) {
	byID := make(map[int64]*store.Spec, len(specs))
	for i := range specs {
		specs[i].Deps = []store.SpecLink{}
		byID[specs[i].ID] = &specs[i]
	}
	for _, l := range deps {
		if sp := byID[l.SpecID]; sp != nil {
			sp.Deps = append(sp.Deps, l.Link)
		}
	}
}

// EventColumns selects events, for Events: from phase_events e.
const EventColumns = `
SELECT e.phase_id, e.id, e.kind, e.line_no, e.text, e.source_file, e.source_line, e.pre_context,
       e.post_context, e.start_line, e.end_line, e.repeat_count, e.context_in_log, e.text_in_log
FROM phase_events e`

// Events reads rows of EventColumns of the phase named phase.
func Events(phase string) Reader[store.PhaseEvent] {
	v := new(struct {
		e    store.PhaseEvent
		kind string
	})
	v.e.Phase = phase
	return Reader[store.PhaseEvent]{
		dest: []any{&v.e.Key.PhaseID, &v.e.Key.ID, &v.kind, &v.e.LineNo, &v.e.Text, &v.e.SourceFile, &v.e.SourceLine,
			&v.e.PreContext, &v.e.PostContext, &v.e.Start, &v.e.End, &v.e.RepeatCount, &v.e.ContextInLog,
			&v.e.TextInLog},
		value: func() (store.PhaseEvent, error) {
			e := v.e
			e.Kind = logparse.Kind(v.kind)
			e.Key.LineNo = int64(e.LineNo)
			return e, nil
		},
	}
}

// EventPhase is a phase ListEvents reads events of.
type EventPhase struct {
	ID   int64
	Name string
}

// EventPhases reads the rows of readsql's EventPhases.
func EventPhases() Reader[EventPhase] {
	v := new(EventPhase)
	return Reader[EventPhase]{dest: []any{&v.ID, &v.Name}, value: func() (EventPhase, error) { return *v, nil }}
}

// PageEvents puts a page of ListEvents together from the build's phases, read from the
// one q.After is in on, and the events of each phase after a place in it, read by
// events, one phase at a time so that each read follows the index of a phase's events.
func PageEvents(q store.EventQuery, phases []EventPhase,
	events func(p EventPhase, lineNo, id int64, limit int) ([]store.PhaseEvent, error)) ([]store.PhaseEvent, error) {
	limit := page.Size(q.Limit)
	var out []store.PhaseEvent
	for _, p := range phases {
		lineNo, id := int64(math.MinInt32), int64(0) // before every line (line_no is a 32-bit integer)
		if p.ID == q.After.PhaseID {
			lineNo, id = q.After.LineNo, q.After.ID
		} else if p.ID < q.After.PhaseID {
			continue
		}
		phaseEvents, err := events(p, lineNo, id, limit-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, phaseEvents...)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// BuildExists reads the answer to whether build id exists (readsql's BuildExists): nil
// when it does, else BuildNotFound.
func BuildExists(r Scanner, id int64) error {
	var exists bool
	if err := r.Scan(&exists); err != nil {
		return db.Annotate("build exists", err)
	}
	if !exists {
		return BuildNotFound(id)
	}
	return nil
}

// ScanOutput reads a phase's output, output_null and output_bytes. An empty log may come
// back as nil, which only a null log does here.
func ScanOutput(r Scanner) (store.PhaseOutput, error) {
	var out store.PhaseOutput
	err := r.Scan(&out.Compressed, &out.Null, &out.Bytes, &out.Pruned)
	if err == nil && out.Compressed == nil && !out.Null {
		out.Compressed = []byte{}
	}
	return out, err
}

// PlanRows reads rows of a spec look-up: id, name, full_hash, hash, version, stub,
// failed_concretization, and whether the spec has dependencies stored.
func PlanRows() Reader[specplan.Row] {
	row := new(specplan.Row)
	return Reader[specplan.Row]{
		dest:  []any{&row.ID, &row.Name, &row.FullHash, &row.Hash, &row.Version, &row.Stub, &row.Failed, &row.HasDeps},
		value: func() (specplan.Row, error) { return *row, nil },
	}
}

// Keys reads rows of a spec's name and full_hash.
func Keys() Reader[specplan.Key] {
	k := new(specplan.Key)
	return Reader[specplan.Key]{
		dest:  []any{&k.Name, &k.Hash},
		value: func() (specplan.Key, error) { return *k, nil },
	}
}

// DayCounts reads day, status and count.
func DayCounts() Reader[store.DayCount] {
	v := new(store.DayCount)
	return Reader[store.DayCount]{dest: []any{&v.Day, &v.Status, &v.Count}, value: func() (store.DayCount, error) { return *v, nil }}
}

// SpecBuilds reads full hash, build id and status.
func SpecBuilds() Reader[store.SpecBuild] {
	v := new(store.SpecBuild)
	return Reader[store.SpecBuild]{dest: []any{&v.FullHash, &v.ID, &v.Status}, value: func() (store.SpecBuild, error) { return *v, nil }}
}

// MatrixCounts reads version, compiler, arch, status and count.
func MatrixCounts() Reader[store.MatrixCount] {
	v := new(store.MatrixCount)
	return Reader[store.MatrixCount]{dest: []any{&v.Version, &v.Compiler, &v.Arch, &v.Status, &v.Count},
		value: func() (store.MatrixCount, error) { return *v, nil }}
}

// Tests reads rows of name, path, full_name, command, status, duration, exit_code,
// exit_value, completion_status, measurements, output, output_bytes from build_tests.
func Tests() Reader[store.Test] {
	v := new(store.Test)
	return Reader[store.Test]{
		dest: []any{&v.Name, &v.Path, &v.FullName, &v.Command, &v.Status, &v.Duration, &v.ExitCode, &v.ExitValue,
			&v.CompletionStatus, &v.Measurements, &v.Output, &v.OutputBytes},
		value: func() (store.Test, error) {
			t := *v
			t.Output = append([]byte(nil), v.Output...)
			return t, nil
		},
	}
}

// Attachments reads rows of id, kind, name, content (NULL when not read), size and
// created_at from build_attachments.
func Attachments[T any](toTime func(T) (time.Time, error)) Reader[store.Attachment] {
	v := new(struct {
		a       store.Attachment
		created T
	})
	return Reader[store.Attachment]{
		dest: []any{&v.a.ID, &v.a.Kind, &v.a.Name, &v.a.Content, &v.a.Size, &v.created},
		value: func() (store.Attachment, error) {
			a := v.a
			a.Content = append([]byte(nil), v.a.Content...)
			var err error
			a.CreatedAt, err = toTime(v.created)
			return a, err
		},
	}
}

// NewReader is a Reader scanning rows into dest and answering value() for each: for the
// readers of other packages of the store.
func NewReader[T any](dest []any, value func() (T, error)) Reader[T] {
	return Reader[T]{dest: dest, value: value}
}

// Candidate is a stored spec a constraint is matched against.
type Candidate struct {
	ID                            int64
	Version, Parameters           string
	CompilerName, CompilerVersion string
}

// Candidates reads the rows of readsql's ConstraintCandidates.
func Candidates() Reader[Candidate] {
	var c Candidate
	return Reader[Candidate]{
		dest:  []any{&c.ID, &c.Version, &c.Parameters, &c.CompilerName, &c.CompilerVersion},
		value: func() (Candidate, error) { return c, nil },
	}
}

// PrunedBuilds reads the rows of readsql's PrunableBuilds; parse reads the creation time.
func PrunedBuilds[T any](parse func(T) (time.Time, error)) Reader[store.PrunedBuild] {
	var b store.PrunedBuild
	var created T
	return Reader[store.PrunedBuild]{
		dest: []any{&b.ID, &b.SpecName, &b.FullHash, &b.Status, &created},
		value: func() (store.PrunedBuild, error) {
			var err error
			b.CreatedAt, err = parse(created)
			return b, err
		},
	}
}

// PrunedLogs reads the rows of readsql's PrunableLogs.
func PrunedLogs() Reader[store.PrunedLog] {
	var l store.PrunedLog
	return Reader[store.PrunedLog]{
		dest:  []any{&l.PhaseID, &l.BuildID, &l.Phase, &l.Bytes},
		value: func() (store.PrunedLog, error) { return l, nil },
	}
}

// DAGNodes reads the rows of readsql's BuildDAG.
func DAGNodes() Reader[store.DAGNode] {
	var n store.DAGNode
	var depth int64
	return Reader[store.DAGNode]{
		dest: []any{&n.Name, &n.Version, &n.FullHash, &n.Compiler, &n.Parameters, &depth},
		value: func() (store.DAGNode, error) {
			n.Depth = int(depth)
			return n, nil
		},
	}
}
