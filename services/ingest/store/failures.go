package store

import (
	"context"
	"time"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
)

// FailureStore keeps the fingerprints of events (package fingerprint) and the known causes
// of failures. Events get their fingerprint when they are stored (UpdatePhase, the CDash
// and JUnit writes); events stored before fingerprints existed get theirs from
// BackfillFingerprints.
type FailureStore interface {
	// BackfillFingerprints fingerprints up to limit events stored without one, oldest
	// first, and rewrites the build fingerprints of their builds. It answers how many
	// events it fingerprinted: 0 when none was left.
	BackfillFingerprints(ctx context.Context, limit int) (int, error)
	// ListFailures is the top fingerprints of kind by the number of builds created at or
	// after Since that reported them, most first.
	ListFailures(ctx context.Context, q FailureQuery) ([]Failure, error)
	// BuildFingerprints is a build's fingerprints, errors first then in log order, each
	// with how many other builds reported it when countOthers is set, which costs an index
	// range per fingerprint (errs.NotFound for an unknown build).
	BuildFingerprints(ctx context.Context, buildID int64, countOthers bool) ([]BuildFingerprint, error)
	// FindReference finds the build q.BuildID is compared with (errs.NotFound for an
	// unknown build); found is false when it has none.
	FindReference(ctx context.Context, q ReferenceQuery) (ref BuildRef, status string, found bool, err error)
	ListKnownCauses(ctx context.Context) ([]KnownCause, error)
	CreateKnownCause(ctx context.Context, c KnownCause) (KnownCause, error)
	// DeleteKnownCause deletes a known cause (errs.NotFound when there is none).
	DeleteKnownCause(ctx context.Context, id int64) error
}

// MaxFailures bounds a ListFailures answer and MaxBuildFingerprints a BuildFingerprints
// one: a build keeps at most logparse.MaxEvents errors and warnings per phase.
const (
	MaxFailures          = 500
	MaxBuildFingerprints = 2000
	// MaxKnownCauses bounds the table, which every failure list matches in full.
	MaxKnownCauses = 1000
)

// FailureQuery asks for the top failures.
type FailureQuery struct {
	Kind  logparse.Kind
	Since time.Time
	Limit int
	// Fingerprint, when not "", keeps that fingerprint alone.
	Fingerprint string
}

// EventLink names one stored event: the build, phase and line it is on, and its text.
type EventLink struct {
	BuildID int64
	EventID int64
	Phase   string
	LineNo  int64
	Text    string
}

// Failure is one fingerprint of the failure list.
type Failure struct {
	fingerprint.Print
	// Builds, Packages, Compilers and Hosts count the builds in the window that reported
	// it, and their distinct package names, compilers and host names.
	Builds, Packages, Compilers, Hosts int64
	// FirstSeen and LastSeen are when any build first and last reported it.
	FirstSeen, LastSeen time.Time
	// Example is its first event in the newest build that reported it.
	Example EventLink
}

// BuildFingerprint is one fingerprint of a build.
type BuildFingerprint struct {
	fingerprint.Count
	// OtherBuilds counts the other builds that reported it.
	OtherBuilds int64
	// Example is its first event in the build.
	Example EventLink
}

// How FindReference picks the reference: by default the latest earlier build of a spec
// with the same package name, compiler and architecture.
const (
	ReferenceDefault  = ""
	ReferenceSameSpec = "spec"
	ReferenceSameTag  = "tag"
)

// ReferenceQuery asks for the reference of build BuildID: By one of the Reference
// constants, Tag the tag of ReferenceSameTag (which also keeps the package name).
type ReferenceQuery struct {
	BuildID int64
	By      string
	Tag     string
}

// KnownCause is a failure cause admins know about: errors whose fingerprint is
// Fingerprint, or whose normalised text Pattern (RE2) matches, show Title and Link.
type KnownCause struct {
	ID          int64
	Title       string
	Link        string
	Pattern     string
	Fingerprint string
	CreatedBy   string
	CreatedAt   time.Time
}
