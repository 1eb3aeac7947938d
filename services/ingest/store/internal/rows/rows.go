// Package rows holds what both store implementations do the same way around their SQL:
// the columns of the read models and how their rows are scanned, how names read back, how
// list filters are interpreted, and the domain errors they answer with.
package rows

import (
	"strings"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// Compiler formats a compiler as "name@version" ("" when the spec has none).
func Compiler(name, version *string) string {
	if name == nil {
		return ""
	}
	if version == nil || *version == "" {
		return *name
	}
	return *name + "@" + *version
}

// Arch formats an architecture as "platform-platform_os-target" ("" when the spec has
// none).
func Arch(platform, platformOS, target *string) string {
	if platform == nil {
		return ""
	}
	return *platform + "-" + deref(platformOS) + "-" + deref(target)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Types splits a stored dependency type list.
func Types(joined string) []string {
	if joined == "" {
		return []string{}
	}
	return strings.Split(joined, ",")
}

// Output is the log a phase update stores: nil (NULL) when the client sent null, else the
// log, never nil, since the drivers write a nil slice as NULL. ScanOutput reads it back.
func Output(p store.PhaseUpdate) []byte {
	if p.OutputNull {
		return nil
	}
	if p.Output == nil {
		return []byte{}
	}
	return p.Output
}

// EventCounts are the numbers a phase keeps with its summary.
type EventCounts struct {
	Errors, Warnings           int64 // events kept
	ErrorsTotal, WarningsTotal int64 // found in the log
}

// CountEvents counts the errors and warnings of p's events; the totals are at least those.
func CountEvents(p store.PhaseUpdate) EventCounts {
	var c EventCounts
	for _, e := range p.Events {
		switch e.Kind {
		case logparse.Error:
			c.Errors++
		case logparse.Warning:
			c.Warnings++
		}
	}
	c.ErrorsTotal, c.WarningsTotal = max(p.ErrorsTotal, c.Errors), max(p.WarningsTotal, c.Warnings)
	return c
}

// Contains is a LIKE pattern matching text anywhere, with LIKE's wildcards in text taken
// literally (escape character: backslash).
func Contains(text string) string {
	return "%" + likeLiteral.Replace(text) + "%"
}

// Prefix is a LIKE pattern matching what starts with text, escaped as Contains.
func Prefix(text string) string {
	return likeLiteral.Replace(text) + "%"
}

// likeLiteral escapes LIKE's wildcards and its escape character.
var likeLiteral = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// The messages of the domain errors the stores return.

// BuildNotFound is the error for an unknown build id.
func BuildNotFound(id int64) error {
	return errs.New(errs.NotFound, "Build %d does not exist.", id)
}

// NotOwner is the error for an update by someone other than the build's owner.
func NotOwner() error {
	return errs.New(errs.NotOwner, "You do not own the build and cannot update it.")
}

// PhaseNotFound is the error for an unknown phase of an existing build.
func PhaseNotFound(buildID int64, name string) error {
	return errs.New(errs.NotFound, "Build %d has no phase %s.", buildID, name)
}

// SpecNotFound is the error for a build of an unknown spec; the message is the one
// Spack Monitor clients know.
func SpecNotFound(hash, spackVersion string) error {
	e := errs.New(errs.SpecNotFound, "The spec with full hash %s and spack version %s does not exist.", hash, spackVersion)
	e.Metadata = map[string]string{"full_hash": hash, "spack_version": spackVersion}
	return e
}

// NoSpec is the error for GetSpec of an unknown hash.
func NoSpec(hash string) error {
	return errs.New(errs.NotFound, "There is no spec with hash %s.", hash)
}

// AttachmentNotFound is the error for an unknown attachment of an existing build.
func AttachmentNotFound(buildID, id int64) error {
	return errs.New(errs.NotFound, "Build %d has no attachment %d.", buildID, id)
}

// BuildStatusSQL sets the status of build ?1 (written with param) from what it holds:
// FAILED when a phase failed, a test failed or its update reported an error, else SUCCESS;
// the first time sets finished_at to ?2.
func BuildStatusSQL(param func(int) string) string {
	id, t := param(1), param(2)
	return `
UPDATE builds
SET status = CASE WHEN EXISTS (SELECT 1 FROM phases p WHERE p.build_id = builds.id AND p.status = 'ERROR')
                    OR EXISTS (SELECT 1 FROM build_tests bt WHERE bt.build_id = builds.id AND bt.status = 'failed')
                    OR EXISTS (SELECT 1 FROM cdash_builds cb WHERE cb.build_id = builds.id AND cb.update_status <> '')
                  THEN 'FAILED' ELSE 'SUCCESS' END,
    updated_at = ` + t + `, finished_at = COALESCE(finished_at, ` + t + `)
WHERE id = ` + id
}

// CDashInfoSQL replaces the non-empty fields of the cdash_builds row of build ?1 with
// ?2 … ?12 (track, generator, compiler name and version, OS name, release, version and
// platform, revision, update status, package).
func CDashInfoSQL(param func(int) string) string {
	cols := []string{"track", "generator", "compiler_name", "compiler_version", "os_name", "os_release",
		"os_version", "os_platform", "revision", "update_status", "package"}
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = COALESCE(NULLIF(" + param(i+2) + ", ''), " + c + ")"
	}
	return "UPDATE cdash_builds SET " + strings.Join(set, ", ") + " WHERE build_id = " + param(1)
}

// CDashInfoArgs are the arguments of CDashInfoSQL after the build id.
func CDashInfoArgs(i store.CDashInfo) []any {
	return []any{i.Track, i.Generator, i.CompilerName, i.CompilerVersion, i.OSName, i.OSRelease,
		i.OSVersion, i.OSPlatform, i.Revision, i.UpdateStatus, i.Package}
}
