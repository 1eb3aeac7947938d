// Package check holds what both analysis store implementations do the same way: the
// validation of what they are asked to store, putting a request's rows in the one order
// both write them in, and the domain errors they answer with.
package check

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// Limits of what the analysis tables hold; the migrations' CHECKs say the same. Lengths
// are in bytes here and in characters in the schema, so a value that passes here always
// fits there.
const (
	// MaxPathLength bounds a path relative to the install prefix. Paths are in unique
	// indexes, and PostgreSQL refuses an index row over 2704 bytes: with an attribute's
	// analyzer and name beside it, 1 KiB of path always fits.
	MaxPathLength      = 1024
	MaxTypeLength      = 25
	MaxHashLength      = 250
	MaxEnvNameLength   = 250
	MaxEnvValueLength  = 128 << 10 // Linux's MAX_ARG_STRLEN: no environment holds more
	MaxConfigArgsBytes = 1 << 20
	MaxAttrNameLength  = 150 // upstream's varchar(150)
	MaxValueBytes      = 64 << 20
	// Bounds on the rows of one request, so that one transaction stays reasonable.
	MaxInstallFiles = 500_000
	MaxEnvironment  = 10_000
	MaxAttributes   = 100_000
	MaxBuildIDs     = 100_000
)

// Record is a validated Analysis in the order both stores write it: install files by
// path, attributes by (path, analyzer, name), variables by name, duplicates dropped (the
// last one given wins). Concurrent writers that lock rows in one order cannot deadlock.
type Record struct {
	ConfigArgs   *string
	Environment  []store.EnvironmentVariable // nil: leave alone
	InstallFiles []store.InstallFile
	// FilePaths are the distinct install-file paths the attributes name, by path.
	FilePaths  []string
	Attributes []store.Attribute
}

// Analysis checks a and returns it as a Record.
func Analysis(buildID int64, a store.Analysis) (Record, error) {
	if err := BuildID(buildID); err != nil {
		return Record{}, err
	}
	var r Record
	if a.ConfigArgs != nil {
		if err := text("Configure arguments", *a.ConfigArgs, MaxConfigArgsBytes); err != nil {
			return Record{}, err
		}
		r.ConfigArgs = a.ConfigArgs
	}
	if a.Environment != nil {
		if len(a.Environment) > MaxEnvironment {
			return Record{}, errs.New(errs.BadRequest, "At most %d environment variables can be recorded.", MaxEnvironment)
		}
		r.Environment = make([]store.EnvironmentVariable, 0, len(a.Environment))
		for name, value := range a.Environment {
			if err := name1("An environment variable name", name, MaxEnvNameLength); err != nil {
				return Record{}, err
			}
			if err := text("The value of environment variable "+name, value, MaxEnvValueLength); err != nil {
				return Record{}, err
			}
			r.Environment = append(r.Environment, store.EnvironmentVariable{Name: name, Value: value})
		}
		slices.SortFunc(r.Environment, func(x, y store.EnvironmentVariable) int { return strings.Compare(x.Name, y.Name) })
	}
	if len(a.InstallFiles) > MaxInstallFiles {
		return Record{}, errs.New(errs.BadRequest, "At most %d install files can be recorded at once.", MaxInstallFiles)
	}
	for _, f := range a.InstallFiles {
		if err := installFile(f); err != nil {
			return Record{}, err
		}
	}
	r.InstallFiles = lastWins(a.InstallFiles, func(x, y store.InstallFile) int { return strings.Compare(x.Path, y.Path) })
	if len(a.Attributes) > MaxAttributes {
		return Record{}, errs.New(errs.BadRequest, "At most %d attributes can be recorded at once.", MaxAttributes)
	}
	for _, at := range a.Attributes {
		if err := attribute(at); err != nil {
			return Record{}, err
		}
	}
	r.Attributes = lastWins(a.Attributes, func(x, y store.Attribute) int {
		return cmp.Or(strings.Compare(x.InstallFile, y.InstallFile), strings.Compare(x.Analyzer, y.Analyzer), strings.Compare(x.Name, y.Name))
	})
	for _, at := range r.Attributes {
		if at.InstallFile != "" && (len(r.FilePaths) == 0 || r.FilePaths[len(r.FilePaths)-1] != at.InstallFile) {
			r.FilePaths = append(r.FilePaths, at.InstallFile)
		}
	}
	return r, nil
}

// lastWins sorts a copy of xs stably by key and keeps the last of each run of equal keys.
func lastWins[T any](xs []T, key func(x, y T) int) []T {
	out := slices.Clone(xs)
	slices.SortStableFunc(out, key)
	kept := out[:0]
	for _, x := range out {
		if len(kept) > 0 && key(kept[len(kept)-1], x) == 0 {
			kept[len(kept)-1] = x
			continue
		}
		kept = append(kept, x)
	}
	return kept
}

// BuildID refuses an id no build can have.
func BuildID(id int64) error {
	if id <= 0 {
		return errs.New(errs.BadRequest, "A build id is a positive number.")
	}
	return nil
}

// InstallFileQuery checks a query of ListInstallFiles.
func InstallFileQuery(q store.InstallFileQuery) error {
	if err := BuildID(q.BuildID); err != nil {
		return err
	}
	return cmp.Or(
		text("The type", q.Type, MaxTypeLength),
		text("The path prefix", q.PathPrefix, MaxPathLength),
		text("The page position", q.After, MaxPathLength),
	)
}

// AttributeQuery checks a query of ListAttributes.
func AttributeQuery(q store.AttributeQuery) error {
	if len(q.BuildIDs) > MaxBuildIDs {
		return errs.New(errs.BadRequest, "Attributes of at most %d builds can be listed at once.", MaxBuildIDs)
	}
	for _, id := range q.BuildIDs {
		if err := BuildID(id); err != nil {
			return err
		}
	}
	return cmp.Or(
		text("The analyzer", q.Analyzer, MaxAttrNameLength),
		text("The attribute name", q.Name, MaxAttrNameLength),
	)
}

func installFile(f store.InstallFile) error {
	if err := path("An install file path", f.Path); err != nil {
		return err
	}
	for _, n := range []*int64{f.Mode, f.Owner, f.Group, f.Size} {
		if n != nil && *n < 0 {
			return errs.New(errs.BadRequest, "Install file %s: mode, owner, group and size cannot be negative.", f.Path)
		}
	}
	return cmp.Or(
		text("The type of install file "+f.Path, f.Type, MaxTypeLength),
		text("The hash of install file "+f.Path, f.Hash, MaxHashLength),
	)
}

func attribute(a store.Attribute) error {
	if a.InstallFile != "" {
		if err := path("An attribute's install file", a.InstallFile); err != nil {
			return err
		}
	}
	if err := cmp.Or(
		name1("An analyzer name", a.Analyzer, MaxAttrNameLength),
		name1("An attribute name", a.Name, MaxAttrNameLength),
	); err != nil {
		return err
	}
	if a.Value == nil && a.BinaryValue == nil && a.JSONValue == nil {
		return errs.New(errs.BadRequest, "Attribute %s of analyzer %s has no value.", a.Name, a.Analyzer)
	}
	if a.Value != nil {
		if err := text("The value of attribute "+a.Name, *a.Value, MaxValueBytes); err != nil {
			return err
		}
	}
	if len(a.BinaryValue) > MaxValueBytes {
		return errs.New(errs.BadRequest, "The binary value of attribute %s is longer than %d bytes.", a.Name, MaxValueBytes)
	}
	if a.JSONValue != nil {
		if err := text("The JSON value of attribute "+a.Name, *a.JSONValue, MaxValueBytes); err != nil {
			return err
		}
		if !json.Valid([]byte(*a.JSONValue)) {
			return errs.New(errs.BadRequest, "The JSON value of attribute %s is not valid JSON.", a.Name)
		}
	}
	return nil
}

// path refuses a path that is empty, too long, not text, or absolute: the store keeps
// paths relative to the install prefix, and an absolute one means the caller did not
// make it so.
func path(what, p string) error {
	if err := name1(what, p, MaxPathLength); err != nil {
		return err
	}
	if strings.HasPrefix(p, "/") {
		return errs.New(errs.BadRequest, "%s must be relative to the install prefix: %s", what, p)
	}
	return nil
}

// name1 refuses text that is empty or as text refuses it.
func name1(what, s string, max int) error {
	if s == "" {
		return errs.New(errs.BadRequest, "%s cannot be empty.", what)
	}
	return text(what, s, max)
}

// text refuses what PostgreSQL could not store as text (invalid UTF-8, NUL), so that
// both stores refuse the same, and what is longer than max bytes.
func text(what, s string, max int) error {
	switch {
	case len(s) > max:
		return errs.New(errs.BadRequest, "%s is longer than %d bytes.", what, max)
	case !utf8.ValidString(s):
		return errs.New(errs.BadRequest, "%s is not valid UTF-8.", what)
	case strings.IndexByte(s, 0) >= 0:
		return errs.New(errs.BadRequest, "%s contains a NUL character.", what)
	}
	return nil
}

// AttributeNotFound is the error for an unknown attribute id.
func AttributeNotFound(id int64) error {
	return errs.New(errs.NotFound, "Attribute %d does not exist.", id)
}
