package sqlite

import (
	"context"
	"time"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/failuresql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// specBuildsSQL finds the specs through specs_full_hash_nocase_idx, the full hash's one
// index (migration 00021); the exact IN keeps only the hashes asked for.
var specBuildsSQL = readsql.SpecBuildsOf(
	"s.full_hash COLLATE NOCASE IN (SELECT value FROM jsonb_each(?1)) AND s.full_hash IN (SELECT value FROM jsonb_each(?1))", "?2")

var matrixCountsSQL = readsql.MatrixCountsBySpec("?1")

// buildCountsByDaySQL counts the builds created at or after ?1 (of owner ?2 unless it is
// empty) by day and status: the whole days from ?3 (a UTC midnight) on from the rollup of
// migration 00015, a few rows per day where builds_created_idx gave every build of the
// range; the part of the day before ?3 that ?1 falls in, if any, from the builds
// themselves. Times are stored as fixed-width UTC text: the day is the first ten
// characters.
const buildCountsByDaySQL = `
SELECT day, status, SUM(n) FROM (
  SELECT substr(created_at, 1, 10) AS day, status, COUNT(*) AS n FROM builds
  WHERE created_at >= ?1 AND created_at < ?3 AND (?2 = '' OR owner = ?2)
  GROUP BY 1, 2
  UNION ALL
  SELECT day, status, builds FROM build_day_counts
  WHERE day >= substr(?3, 1, 10) AND (?2 = '' OR owner = ?2)
)
GROUP BY 1, 2 ORDER BY 1, 2`

// BuildCountsByDay counts builds per UTC day and status.
func (s *Store) BuildCountsByDay(ctx context.Context, since time.Time, owner string) ([]store.DayCount, error) {
	// The window splits as the failure list's does: a raw first part, then whole days.
	whole := failuresql.SplitWindow(since).RawEnd
	rs, err := s.db.Read.QueryContext(ctx, buildCountsByDaySQL, since.UTC().Format(timeLayout), owner, whole.Format(timeLayout))
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
	rs, err := s.db.Read.QueryContext(ctx, matrixCountsSQL, name)
	if err != nil {
		return nil, wrap("count matrix", err)
	}
	counts, err := collect(rs, rows.MatrixCounts())
	return counts, wrap("count matrix", err)
}
