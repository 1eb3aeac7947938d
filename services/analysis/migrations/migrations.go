// Package migrations holds the analysis service's schema as goose SQL migrations, one set
// per database dialect, embedded in the binary.
package migrations

import (
	"embed"

	"github.com/spackmon/spackmon/pkg/db"
)

//go:embed postgres/*.sql
var postgresFiles embed.FS

//go:embed sqlite/*.sql
var sqliteFiles embed.FS

// Postgres and SQLite are the migrations of each dialect, with the files at the root as
// goose expects.
var (
	Postgres = db.MigrationsIn(postgresFiles, "postgres")
	SQLite   = db.MigrationsIn(sqliteFiles, "sqlite")
)

// VersionTable records which of these migrations a database has had; the analysis
// service's own, so that other services' migrations can share the database.
const VersionTable = "analysis_schema_version"
