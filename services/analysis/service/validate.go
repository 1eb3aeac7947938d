package service

import (
	"cmp"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// Bounds on the rows of one request, so that one transaction stays reasonable.
const (
	maxInstallFiles = 500_000
	maxEnvironment  = 10_000
	maxAttributes   = 100_000
	maxBuildIDs     = 100_000
)

// validateAnalysis refuses an analysis the tables cannot hold (store's limits) or that
// means nothing: an empty name, an absolute path, an attribute without a value.
func validateAnalysis(a store.Analysis) error {
	if a.ConfigArgs != nil {
		if err := text("Configure arguments", *a.ConfigArgs, store.MaxConfigArgsBytes); err != nil {
			return err
		}
	}
	if len(a.Environment) > maxEnvironment {
		return errs.New(errs.BadRequest, "At most %d environment variables can be recorded.", maxEnvironment)
	}
	for name, value := range a.Environment {
		if err := cmp.Or(
			nonEmptyText("An environment variable name", name, store.MaxEnvNameLength),
			text("The value of environment variable "+name, value, store.MaxEnvValueLength),
		); err != nil {
			return err
		}
	}
	if len(a.InstallFiles) > maxInstallFiles {
		return errs.New(errs.BadRequest, "At most %d install files can be recorded at once.", maxInstallFiles)
	}
	for _, f := range a.InstallFiles {
		if err := validateInstallFile(f); err != nil {
			return err
		}
	}
	if len(a.Attributes) > maxAttributes {
		return errs.New(errs.BadRequest, "At most %d attributes can be recorded at once.", maxAttributes)
	}
	for _, at := range a.Attributes {
		if err := validateAttribute(at); err != nil {
			return err
		}
	}
	return nil
}

// validateInstallFileQuery checks the filters of a ListInstallFiles request.
func validateInstallFileQuery(q store.InstallFileQuery) error {
	return cmp.Or(
		text("The type", q.Type, store.MaxTypeLength),
		text("The path prefix", q.PathPrefix, store.MaxPathLength),
		text("The page position", q.After, store.MaxPathLength),
	)
}

// validateAttributeQuery checks the filters of a ListAttributes request and the number of
// builds it covers.
func validateAttributeQuery(q store.AttributeQuery) error {
	if len(q.BuildIDs) > maxBuildIDs {
		return errs.New(errs.BadRequest, "Attributes of at most %d builds can be listed at once.", maxBuildIDs)
	}
	return cmp.Or(
		text("The analyzer", q.Analyzer, store.MaxAttrNameLength),
		text("The attribute name", q.Name, store.MaxAttrNameLength),
	)
}

func validateInstallFile(f store.InstallFile) error {
	if err := relativePath("An install file path", f.Path); err != nil {
		return err
	}
	for _, n := range []*int64{f.Mode, f.Owner, f.Group, f.Size} {
		if n != nil && *n < 0 {
			return errs.New(errs.BadRequest, "Install file %s: mode, owner, group and size cannot be negative.", f.Path)
		}
	}
	return cmp.Or(
		text("The type of install file "+f.Path, f.Type, store.MaxTypeLength),
		text("The hash of install file "+f.Path, f.Hash, store.MaxHashLength),
	)
}

func validateAttribute(a store.Attribute) error {
	if a.InstallFile != "" {
		if err := relativePath("An attribute's install file", a.InstallFile); err != nil {
			return err
		}
	}
	if err := cmp.Or(
		nonEmptyText("An analyzer name", a.Analyzer, store.MaxAttrNameLength),
		nonEmptyText("An attribute name", a.Name, store.MaxAttrNameLength),
	); err != nil {
		return err
	}
	if a.Value == nil && a.BinaryValue == nil && a.JSONValue == nil {
		return errs.New(errs.BadRequest, "Attribute %s of analyzer %s has no value.", a.Name, a.Analyzer)
	}
	if a.Value != nil {
		if err := text("The value of attribute "+a.Name, *a.Value, store.MaxValueBytes); err != nil {
			return err
		}
	}
	if len(a.BinaryValue) > store.MaxValueBytes {
		return errs.New(errs.BadRequest, "The binary value of attribute %s is longer than %d bytes.", a.Name, store.MaxValueBytes)
	}
	if a.JSONValue != nil {
		if err := text("The JSON value of attribute "+a.Name, *a.JSONValue, store.MaxValueBytes); err != nil {
			return err
		}
		if !json.Valid([]byte(*a.JSONValue)) {
			return errs.New(errs.BadRequest, "The JSON value of attribute %s is not valid JSON.", a.Name)
		}
	}
	return nil
}

// relativePath refuses a path that is empty, too long, not text, or absolute: the store
// keeps paths relative to the install prefix, and an absolute one means the caller did not
// make it so.
func relativePath(what, p string) error {
	if err := nonEmptyText(what, p, store.MaxPathLength); err != nil {
		return err
	}
	if strings.HasPrefix(p, "/") {
		return errs.New(errs.BadRequest, "%s must be relative to the install prefix: %s", what, p)
	}
	return nil
}

// nonEmptyText refuses text that is empty or as text refuses it.
func nonEmptyText(what, s string, max int) error {
	if s == "" {
		return errs.New(errs.BadRequest, "%s cannot be empty.", what)
	}
	return text(what, s, max)
}

// text refuses what PostgreSQL could not store as text (invalid UTF-8, NUL), so that both
// stores hold the same, and what is longer than max bytes.
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
