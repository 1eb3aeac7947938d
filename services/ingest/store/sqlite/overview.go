package sqlite

import (
	"context"
	"time"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

var specBuildsSQL = readsql.SpecBuildsOf("SELECT value FROM jsonb_each(?1)", "?2")

// BuildCountsByDay counts builds per UTC day and status.
func (s *Store) BuildCountsByDay(ctx context.Context, since time.Time, owner string) ([]store.DayCount, error) {
	query, args := reads.BuildCountsByDay(since.UTC().Format(timeLayout), owner)
	rs, err := s.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap("count builds by day", err)
	}
	counts, err := collect(rs, rows.DayCounts())
	return counts, wrap("count builds by day", err)
}

// SpecBuilds reads the newest builds of each of the specs, in one query.
func (s *Store) SpecBuilds(ctx context.Context, hashes []string, perSpec int) ([]store.SpecBuild, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	rs, err := s.db.Read.QueryContext(ctx, specBuildsSQL, jsonText(hashes), perSpec)
	if err != nil {
		return nil, wrap("list spec builds", err)
	}
	builds, err := collect(rs, rows.SpecBuilds())
	return builds, wrap("list spec builds", err)
}

// MatrixCounts counts a package's builds by version, compiler, arch and status.
func (s *Store) MatrixCounts(ctx context.Context, name string) ([]store.MatrixCount, error) {
	rs, err := s.db.Read.QueryContext(ctx, reads.MatrixCounts, name)
	if err != nil {
		return nil, wrap("count matrix", err)
	}
	counts, err := collect(rs, rows.MatrixCounts())
	return counts, wrap("count matrix", err)
}
