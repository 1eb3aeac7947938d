// Package store is the analysis service's persistence: what `spack analyze` reported about
// a build — its configure arguments, its build environment variables, the files of its
// install prefix, and the generic analyzer results (attributes). Builds themselves belong
// to the ingest service: a build is only its id here, and the service checks with ingest
// that it exists before writing. Two implementations (postgres, sqlite) pass the one
// contract suite in storetest.
package store

import "context"

// Store is everything the analysis service keeps. Errors are *errs.Error values for what
// the caller got wrong (errs.NotFound for an unknown attribute, errs.BadRequest for
// invalid input, errs.Unavailable for a database that cannot be reached) and plain errors
// for failures of the store itself.
type Store interface {
	// Record writes everything of one analyze request for the build in one transaction:
	// all of it or none. Records of one build run one after the other, so concurrent
	// requests for the same build neither fail nor interleave.
	Record(ctx context.Context, buildID int64, a Analysis) (Summary, error)

	// ListInstallFiles returns a page of the build's install files, by path (byte order).
	ListInstallFiles(ctx context.Context, q InstallFileQuery) ([]InstallFile, error)
	// GetEnvironment returns the build's environment variables, by name; none when the
	// build has none recorded.
	GetEnvironment(ctx context.Context, buildID int64) ([]EnvironmentVariable, error)
	// GetConfigArgs returns the build's configure arguments, and false when none were
	// recorded.
	GetConfigArgs(ctx context.Context, buildID int64) (string, bool, error)
	// ListAttributes returns a page of the attributes of the given builds, by id, with the
	// start of their values only.
	ListAttributes(ctx context.Context, q AttributeQuery) ([]AttributeRef, error)
	// GetAttribute returns one attribute with its value (errs.NotFound for an unknown id).
	GetAttribute(ctx context.Context, id int64) (Attribute, error)

	Ping(ctx context.Context) error
	Close() error
}

// Analysis is what one analyze request asks to record. A part left at its zero value is
// left alone.
type Analysis struct {
	// ConfigArgs, when not nil, replaces the build's configure arguments.
	ConfigArgs *string
	// Environment, when not nil, replaces the build's whole set of environment variables
	// (an empty, non-nil map clears it). Other builds' variables are never touched.
	Environment map[string]string
	// InstallFiles are upserted by path; files of the build not named here stay. When a
	// path is given twice, the last one wins.
	InstallFiles []InstallFile
	// Attributes are upserted by (install file, analyzer, name): a new value replaces
	// the old one, all three value columns together. When one is given twice, the last
	// one wins.
	Attributes []Attribute
}

// Summary tells how much a Record wrote.
type Summary struct {
	ConfigArgs           bool
	EnvironmentVariables int
	InstallFiles         int
	Attributes           int
}

// InstallFile is one entry of an install manifest.
type InstallFile struct {
	// Path is relative to the build's install prefix ("bin/tar"; "." for the prefix
	// itself); package manifest turns a manifest's absolute paths into these.
	Path string
	// Type is the manifest's type ("file", "dir", "link"); "" for a file known only from
	// an attribute.
	Type string
	// Mode, Owner, Group and Size are nil when unknown (Spack gives no size for
	// directories).
	Mode  *int64
	Owner *int64
	Group *int64
	Hash  string
	Size  *int64
}

// EnvironmentVariable is one variable of a build's environment.
type EnvironmentVariable struct {
	Name  string
	Value string
}

// Attribute is one analyzer result. At least one of the values is set; Record stores the
// three as given.
type Attribute struct {
	ID      int64 // set by GetAttribute; ignored by Record
	BuildID int64 // set by GetAttribute; ignored by Record
	// InstallFile is the path, relative to the install prefix, of the file the result is
	// about; "" for a result about the whole build. Record adds a file it does not know
	// to the build's install files, with its metadata unknown.
	InstallFile string
	Analyzer    string
	Name        string
	Value       *string
	BinaryValue []byte // nil for none
	// JSONValue is JSON text.
	JSONValue *string
}

// AttributeRef is an attribute without its value, as listings give it.
type AttributeRef struct {
	ID          int64
	BuildID     int64
	InstallFile string
	Analyzer    string
	Name        string
	// Preview is the start of the text or JSON value: its first PreviewLength+1
	// characters, so that a longer value can be told from one of exactly PreviewLength.
	Preview string
	// Binary is set when the value is binary.
	Binary bool
}

// PreviewLength is how many characters of a value ListAttributes previews.
const PreviewLength = 256

// InstallFileQuery asks ListInstallFiles for a page of build BuildID's files: those of
// Type (any when ""), whose path starts with PathPrefix (a plain string prefix, not a
// pattern), after path After (keyset pagination; "" for the first page), at most Limit
// (page.Size: 0 asks for page.DefaultSize, no page is longer than page.MaxSize).
type InstallFileQuery struct {
	BuildID    int64
	Type       string
	PathPrefix string
	After      string
	Limit      int
}

// AttributeQuery asks ListAttributes for a page of the attributes of the builds BuildIDs
// (no builds, no attributes), of Analyzer and Name (any when ""), with ids greater than
// AfterID, at most Limit (as in InstallFileQuery).
type AttributeQuery struct {
	BuildIDs []int64
	Analyzer string
	Name     string
	AfterID  int64
	Limit    int
}
