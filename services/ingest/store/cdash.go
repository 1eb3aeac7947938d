package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Build sources: how a build was reported.
const (
	SourceMS1   = "ms1"
	SourceCDash = "cdash"
	SourceJUnit = "junit"
)

// Test statuses.
const (
	TestPassed = "passed"
	TestFailed = "failed"
	TestNotRun = "notrun"
)

// Attachment kinds.
const (
	AttachmentNote = "note"
	AttachmentFile = "file"
)

// CDashStore keeps what CDash clients and JUnit files report. Every write is one
// transaction; errors are as for Store.
type CDashStore interface {
	// PutCDashPart gets or creates the build p.Key names, owned by actor (errs.NotOwner when
	// it is another's), and applies the part: non-empty Info fields replace the stored ones,
	// Phase replaces that phase, Tests (when ReplaceTests) replace the build's tests, and
	// Attachments replace those of the same kind and name. The build's status then follows
	// what it holds: FAILED when a phase has status ERROR, a test failed or the update
	// reported an error, else SUCCESS.
	PutCDashPart(ctx context.Context, actor Actor, p CDashPart) (CDashResult, error)
	// AttachFile adds (or replaces) an attachment of one of actor's builds.
	AttachFile(ctx context.Context, actor Actor, buildID int64, a Attachment) (int64, error)
	// ListTests reads a build's tests in the order they were reported, of one status
	// unless status is "" (errs.NotFound for an unknown build).
	ListTests(ctx context.Context, buildID int64, status string) ([]Test, error)
	// ListAttachments reads a build's attachments without their content.
	ListAttachments(ctx context.Context, buildID int64) ([]Attachment, error)
	// GetAttachment reads one attachment with its content.
	GetAttachment(ctx context.Context, buildID, id int64) (Attachment, error)
}

// CDashKey names a build reported by a CDash client: one (project, site, build name,
// stamp) is one build, whatever parts it is sent in.
type CDashKey struct {
	Source    string
	Project   string
	Site      string
	BuildName string
	Stamp     string
}

// CDashInfo is what the parts say about a build besides its key.
type CDashInfo struct {
	Track           string
	Generator       string
	CompilerName    string
	CompilerVersion string
	OSName          string
	OSRelease       string
	OSVersion       string
	OSPlatform      string
	Revision        string
	// UpdateStatus is the error an Update part reported (Spack: a concretization error).
	UpdateStatus string
	// Package is the Spack package built, "" when the build is not Spack's.
	Package string
}

// CDashBuild is the read model of a CDash build's own fields.
type CDashBuild struct {
	CDashKey
	CDashInfo
}

// CDashPart is what one part changes.
type CDashPart struct {
	Key  CDashKey
	Info CDashInfo
	// Env and SpecName are used when the part creates the build: where it ran, and the name
	// of the spec row the build hangs on (the package, else the build name).
	Env      BuildEnv
	SpecName string
	// SpecHash, when set, is the DAG (or full) hash of the stored spec the build is of: the
	// build hangs on that spec when one is stored, else on its own spec row.
	SpecHash string
	// Phase, when set, replaces the phase of that name (its BuildID is ignored).
	Phase        *PhaseUpdate
	Tests        []Test
	ReplaceTests bool
	Attachments  []Attachment
}

// CDashResult is what PutCDashPart answers.
type CDashResult struct {
	BuildID int64
	Created bool
	// SpecFullHash is the full hash of the spec the build hangs on.
	SpecFullHash string
}

// Test is one test of a build.
type Test struct {
	Name, Path, FullName, Command string
	Status                        string
	Duration                      float64
	ExitCode, ExitValue           string
	CompletionStatus              string
	// Measurements is a JSON list of {name, type, value}.
	Measurements string
	// Output is zstd-compressed; OutputBytes its size before.
	Output      []byte
	OutputBytes int64
}

// Attachment is a notes file or an uploaded file; Content is zstd-compressed, Size its
// size before.
type Attachment struct {
	ID        int64
	Kind      string
	Name      string
	Content   []byte
	Size      int64
	CreatedAt time.Time
}

// PlaceholderHash is the full hash of the spec row a CDash build hangs on when no stored
// spec is known for it: made from the build's key, so that each build has its own.
func PlaceholderHash(k CDashKey) string {
	h := sha256.New()
	for _, v := range []string{k.Source, k.Project, k.Site, k.BuildName, k.Stamp} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return k.Source + "-" + hex.EncodeToString(h.Sum(nil))[:32]
}
