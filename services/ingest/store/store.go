// Package store is the ingest service's persistence: specs and their DAGs, build
// environments, builds, tags, phases with their compressed outputs, and the errors and
// warnings extracted from them. Two implementations (postgres, sqlite) pass the one
// contract suite in storetest.
package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/spackspec"
)

// MaxClosurePairs bounds the (ancestor, descendant) pairs one spec write may add: the
// document's own are bounded by spackspec.MaxDescendants, but a few nodes above a stored
// DAG, or a stub with many stored referrers filled with a DAG, reach pairs in the product
// of two sizes.
const MaxClosurePairs = 2 * spackspec.MaxDescendants

// Build statuses (PROTOCOL.md §4).
const (
	StatusNotRun    = "NOTRUN"
	StatusSuccess   = "SUCCESS"
	StatusFailed    = "FAILED"
	StatusCancelled = "CANCELLED"
)

// PhaseStatusError is the status of a failed phase; a phase that succeeded has StatusSuccess.
const PhaseStatusError = "ERROR"

// Actor is who makes a change. Builds belong to the actor that created them; only that
// actor or an admin may update them.
type Actor struct {
	Name string
	// UserID is the realm's id of the user; zero for callers that have none (the anonymous
	// user of disabled auth, users of an external realm), who are known by name.
	UserID int64
	Admin  bool
}

// OwnerKey is what the actor's builds are matched on.
func (a Actor) OwnerKey() string { return OwnerKey(a.Name, a.UserID) }

// OwnerKey is what a build's ownership is matched on: "user:<id>" for a user of this realm,
// whose id is never reused while its name may be, else the name. Realm user names cannot hold
// a colon, so the two never meet.
func OwnerKey(name string, userID int64) string {
	if userID != 0 {
		return "user:" + strconv.FormatInt(userID, 10)
	}
	return name
}

// OwnerIDOf is the user id an owner key names, zero for a name.
func OwnerIDOf(key string) int64 {
	rest, ok := strings.CutPrefix(key, "user:")
	if !ok {
		return 0
	}
	id, _ := strconv.ParseInt(rest, 10, 64)
	return id
}

// Adoption hands the builds owned by a user name, made before builds were owned by user id,
// to the realm user of that name: those made at or after the user was (Since), so that a
// later user of a deleted user's name gets none of them.
type Adoption struct {
	Name   string
	UserID int64
	Since  time.Time
}

// Store is everything the ingest service keeps. Every write is one transaction. Errors are
// *errs.Error values for what the caller got wrong (errs.NotFound, errs.SpecNotFound,
// errs.NotOwner) and plain errors for failures of the store itself.
type Store interface {
	// PutSpec stores every node of doc under spackVersion, with compilers, architectures,
	// targets and dependency edges, creating what is missing. Created tells whether this
	// call created the root row, or filled it in: a stub row (made earlier for a reference
	// from outside a document) is filled in when its node arrives. A node without a full
	// hash is the stored spec with the same name and DAG hash, if there is one. A spec's
	// dependency edges are written once, by the first document that gives it any. A write
	// that would add more than MaxClosurePairs to the spec closure, its own pairs and those
	// it gives specs stored before, fails with errs.BadRequest and stores nothing.
	PutSpec(ctx context.Context, spackVersion string, doc *spackspec.Document) (SpecResult, error)

	// GetOrCreateBuild finds the spec whose full_hash or hash equals b.FullHash under
	// b.SpackVersion (errs.SpecNotFound if none), gets or creates the build environment, and
	// gets or creates the build (spec, environment, owner). Tags are only ever added.
	GetOrCreateBuild(ctx context.Context, b NewBuild) (BuildResult, error)

	// UpdateBuildStatus sets a build's status. The first terminal status (SUCCESS, FAILED,
	// CANCELLED) sets finished_at. On FAILED, the same owner's builds in the same
	// environment of the spec's direct dependencies that are still NOTRUN are settled:
	// FAILED when one of their phases has status ERROR (or FAILED), else CANCELLED;
	// nothing else is touched.
	UpdateBuildStatus(ctx context.Context, actor Actor, buildID int64, status string) (BuildRef, error)

	// UpdatePhase gets or creates the phase (build, name) and replaces its status, output and
	// events.
	UpdatePhase(ctx context.Context, actor Actor, p PhaseUpdate) (Phase, error)

	// AdoptOwners gives each adoption's user the builds still owned by its name alone and
	// made at or after its Since, and returns how many builds changed hands.
	AdoptOwners(ctx context.Context, adoptions []Adoption) (int, error)

	// RenameOwner shows every build the user owns (by id) as owned by name, and returns how
	// many builds it renamed. Ownership does not change: only the name shown and listed.
	RenameOwner(ctx context.Context, userID int64, name string) (int, error)

	GetBuild(ctx context.Context, id int64) (Build, error)
	ListBuilds(ctx context.Context, q BuildQuery) ([]Build, error)
	// PhaseOutput returns the stored (compressed) output of a phase.
	PhaseOutput(ctx context.Context, buildID int64, phase string) (PhaseOutput, error)
	// PhaseOutputSize says how large a phase's stored output is, and whether it is null,
	// without reading it: a read takes the memory it will hold before loading it, and a HEAD
	// needs no more. Errors as PhaseOutput's.
	PhaseOutputSize(ctx context.Context, buildID int64, phase string) (OutputSize, error)
	// ListEvents returns a page of a build's events in phase order (the order the phases
	// were first reported) then line order (errs.NotFound for an unknown build).
	ListEvents(ctx context.Context, q EventQuery) ([]PhaseEvent, error)

	// GetSpec returns the spec whose full_hash (or, failing that, hash) is hash; with
	// spackVersion "" the most recently created one.
	GetSpec(ctx context.Context, hash, spackVersion string) (Spec, error)
	ListSpecs(ctx context.Context, q SpecQuery) ([]Spec, error)

	// BuildCountsByDay counts the builds created at or after since by UTC day and status;
	// owner, when not "", counts only that owner's.
	BuildCountsByDay(ctx context.Context, since time.Time, owner string) ([]DayCount, error)
	// SpecBuilds gives the newest perSpec builds of each spec whose full hash is one of
	// hashes (of any spack version), newest first within a hash.
	SpecBuilds(ctx context.Context, hashes []string, perSpec int) ([]SpecBuild, error)
	// MatrixCounts counts the builds of the specs of package name by version, compiler,
	// platform-os and status, and their failed concretizations under the status
	// FailedConcretization.
	MatrixCounts(ctx context.Context, name string) ([]MatrixCount, error)
	CDashStore
	WatchStore
	FailureStore
	Pruner
	DAGReader

	Ping(ctx context.Context) error
	Close() error
}

// SpecResult is what PutSpec answers about the root.
type SpecResult struct {
	ID      int64
	Name    string
	Version string
	// FullHash is the spec's identity hash, or spackspec.FailedConcretization for the
	// abstract specs of a failed concretization (stored under their DAG hash); the same
	// holds for the FullHash of Deps.
	FullHash     string
	SpackVersion string
	// Deps are the root's direct dependencies, in document order.
	Deps    []SpecLink
	Created bool
}

// BuildEnv is where a build ran.
type BuildEnv struct {
	Hostname      string
	KernelVersion string
	HostOS        string
	HostTarget    string
	Platform      string
}

// NewBuild asks for a build.
type NewBuild struct {
	FullHash     string
	SpackVersion string
	Env          BuildEnv
	// Owner is the owner's name and OwnerID the realm's id of it (see Actor).
	Owner   string
	OwnerID int64
	// Tags are trimmed and non-empty; they compare case-insensitively.
	Tags []string
}

// BuildRef names a build the way the /ms1 answers do.
type BuildRef struct {
	ID           int64
	SpecFullHash string
	SpecName     string
}

// BuildResult is what GetOrCreateBuild answers.
type BuildResult struct {
	Build        BuildRef
	BuildCreated bool
	EnvCreated   bool
}

// PhaseUpdate replaces one phase of a build.
type PhaseUpdate struct {
	BuildID int64
	Name    string
	Status  string
	// Output is the zstd-compressed log; OutputNull says the client sent null (no log file).
	Output      []byte
	OutputNull  bool
	OutputBytes int64
	Events      []logparse.Event
	// ErrorsTotal and WarningsTotal count the errors and warnings of the whole log, of
	// which Events may hold only the first; the store keeps at least the count of Events.
	ErrorsTotal   int64
	WarningsTotal int64
	// ContextInOutput says Events were found in Output by logparse.Parse, so the store may
	// keep their context as line numbers into the log rather than as a copy.
	ContextInOutput bool
}

// Phase is what UpdatePhase answers.
type Phase struct {
	ID     int64
	Name   string
	Status string
}

// PhaseOutput is a stored phase log.
type PhaseOutput struct {
	Compressed []byte
	Null       bool
	Bytes      int64
	// Pruned is set when retention dropped the log (Null is then set too).
	Pruned bool
}

// OutputSize is what PhaseOutput would say of a stored phase log but its bytes: Compressed
// bytes as stored, Bytes once decompressed.
type OutputSize struct {
	Compressed, Bytes int64
	Null, Pruned      bool
}

// PhaseEvent is an extracted event with the phase it belongs to.
type PhaseEvent struct {
	Phase string
	logparse.Event
	// Key is the event's place in the order of ListEvents.
	Key EventKey
	// ContextInLog is the store's own mark of an event whose context is still to be read
	// from its phase's log; reads answer with it filled in and the mark false.
	ContextInLog bool
	// TextInLog marks, in the same way, an event whose text is to be read from the log.
	TextInLog bool
}

// EventKey is an event's place in a build's events: its phase's id (phase order), its
// line number, and its own id among events of the same line. The zero key is before
// every event.
type EventKey struct {
	PhaseID int64
	LineNo  int64
	ID      int64
}

// EventQuery asks ListEvents for a page: the events of build BuildID of Kind ("" for
// both) that come after After (keyset pagination), at most Limit of them (at most 1000).
type EventQuery struct {
	BuildID int64
	Kind    logparse.Kind
	After   EventKey
	Limit   int
	// Hold is called before a log is read for the events' context; nil holds nothing.
	Hold LogHold
}

// LogHold takes, before a store reads a phase's log to fill in its events' context, what
// reading a log of size holds from the caller's budget of memory; release gives it back
// once the context is read. An error ends the read with it.
type LogHold func(ctx context.Context, size OutputSize) (release func(), err error)

// Build is the read model of a build.
type Build struct {
	ID     int64
	Status string
	Spec   SpecInfo
	Env    BuildEnv
	Tags   []string
	Owner  string
	// OwnerID is the realm's id of the owner; zero for a build owned by name alone.
	OwnerID    int64
	Phases     []PhaseInfo
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
	// Source is how the build was reported (SourceMS1, SourceCDash, SourceJUnit); CDash is
	// set for the last two.
	Source string
	CDash  *CDashBuild
	// Its tests by status.
	TestsPassed, TestsFailed, TestsNotRun int64
}

// SpecInfo is the part of a spec a build shows.
type SpecInfo struct {
	FullHash     string
	Hash         string // the DAG hash, which names the install prefix; "" when unknown
	Name         string
	Version      string
	SpackVersion string
	Compiler     string // "gcc@12.2.0", "" when unknown
	Arch         string // "linux-debian12-x86_64_v2", "" when unknown
}

// PhaseInfo summarises a phase.
type PhaseInfo struct {
	Name        string
	Status      string
	OutputBytes int64
	// ErrorCount and WarningCount are the events kept, ErrorsTotal and WarningsTotal the
	// ones found in the log.
	ErrorCount    int64
	WarningCount  int64
	ErrorsTotal   int64
	WarningsTotal int64
}

// BuildQuery filters ListBuilds. Results come newest first (id descending); AfterID > 0
// continues after that id (keyset pagination). Limit is at most 1000.
type BuildQuery struct {
	Status       string
	Tag          string
	SpecName     string
	Owner        string
	Hostname     string
	SpackVersion string
	// SpecID keeps the builds of one spec (any when 0).
	SpecID int64
	// Version keeps specs of that version, Compiler those of that compiler (name@version).
	Version  string
	Compiler string
	// Source, Project and Site keep the builds reported one way, or of one CDash project
	// or site.
	Source  string
	Project string
	Site    string
	// Dependency keeps the builds of specs that depend, at any depth, on a spec satisfying
	// it; DependencyIDs are those specs, found by the store.
	Dependency    *spackspec.Constraint
	DependencyIDs []int64
	// Text matches, as a case-insensitive substring, spec name, version, hostname, compiler
	// (name@version), tag, or a CDash build's name or project; a full hash by its start.
	Text    string
	AfterID int64
	Limit   int
	// Order sorts by OrderUpdated, OrderName or OrderStatus, then newest first; "" sorts
	// by id alone. With an order, a page continues after (AfterKey, AfterID), AfterKey being
	// the last build's OrderKey.
	Order    string
	AfterKey string
}

// The orders of ListBuilds besides newest first.
const (
	OrderUpdated = "updated"
	OrderName    = "name"
	OrderStatus  = "status"
)

// UpdatedKey is the key of a build's update time in the OrderUpdated order: UTC, to the
// microsecond, in a fixed-width form both stores compare exactly.
const UpdatedKey = "2006-01-02T15:04:05.000000Z"

// OrderKey is the key of b in order.
func (b Build) OrderKey(order string) string {
	switch order {
	case OrderUpdated:
		return b.UpdatedAt.UTC().Format(UpdatedKey)
	case OrderName:
		return b.Spec.Name
	case OrderStatus:
		return b.Status
	}
	return ""
}

// Spec is the read model of a spec.
type Spec struct {
	ID           int64
	Name         string
	Version      string
	SpackVersion string
	// FullHash is the identity hash: the full hash, or the DAG hash of a node sent without
	// one (Spack v0.18 analyzer uploads, failed concretizations).
	FullHash             string
	Hash                 string
	BuildHash            string
	PackageHash          string
	Namespace            string
	Compiler             string
	Arch                 string
	Parameters           string // JSON text, "" when none
	FailedConcretization bool
	// Stub is set for a row made from a dependency reference whose node was never sent.
	Stub      bool
	CreatedAt time.Time
	Deps      []SpecLink
	// Dependents are filled by GetSpec only: in a list they would bring every edge into
	// its specs, however many there are.
	Dependents []SpecLink
}

// SpecLink is one end of a dependency edge.
type SpecLink struct {
	Name     string
	FullHash string
	Version  string
	Types    []string
}

// SpecQuery filters ListSpecs; ordered by id ascending, AfterID continues after that id.
type SpecQuery struct {
	Name         string
	Version      string
	SpackVersion string
	// DependsOn keeps the specs that depend, at any depth, on a spec satisfying it;
	// DependsOnIDs are those specs, found by the store.
	DependsOn    *spackspec.Constraint
	DependsOnIDs []int64
	AfterID      int64
	Limit        int
}

// DayCount is how many builds of one status were created on one UTC day (YYYY-MM-DD).
type DayCount struct {
	Day    string
	Status string
	Count  int64
}

// SpecBuild is a build of the spec FullHash.
type SpecBuild struct {
	FullHash string
	ID       int64
	Status   string
}

// FailedConcretization is the status MatrixCounts gives the specs Spack could not
// concretize.
const FailedConcretization = "FAILED_CONCRETIZATION"

// MatrixCount is how many builds of one status the specs of one version, compiler
// (name@version, "" when none) and architecture (platform-os, "" when none) have.
type MatrixCount struct {
	Version  string
	Compiler string
	Arch     string
	Status   string
	Count    int64
}
