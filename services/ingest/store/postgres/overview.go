package postgres

import (
	"context"
	"time"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

var specBuildsSQL = readsql.SpecBuildsOf("s.full_hash IN (SELECT unnest($1::text[]))", "$2")

// buildCountsByDaySQL counts day by day ($1 the first day's start, $2 the number of days,
// $3 the owner or ”, $4 the earliest creation time counted): each day a range of the (created_at, status, owner) index read on
// its own, so that the counting is a small hash of days and statuses rather than a sort
// of every build of the month.
const buildCountsByDaySQL = `
SELECT to_char(($1::timestamptz + d.n * interval '86400 seconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD'), b.status, COUNT(*)
FROM generate_series(0, $2::int - 1) AS d(n)
JOIN LATERAL (
  SELECT status FROM builds
  WHERE created_at >= $1::timestamptz + d.n * interval '86400 seconds'
    AND created_at < $1::timestamptz + (d.n + 1) * interval '86400 seconds'
    AND created_at >= $4
    AND ($3 = '' OR owner = $3)
) b ON true
GROUP BY d.n, b.status
ORDER BY 1, 2`

// BuildCountsByDay counts builds per UTC day and status.
func (s *Store) BuildCountsByDay(ctx context.Context, since time.Time, owner string) ([]store.DayCount, error) {
	// Unix time counts whole days from a UTC midnight: truncating it gives the UTC day.
	first := since.UTC().Truncate(24 * time.Hour)
	days := int(time.Since(first)/(24*time.Hour)) + 1
	if days < 1 {
		return nil, nil
	}
	rs, err := s.pool.Query(ctx, buildCountsByDaySQL, first, days, owner, since.UTC())
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
	rs, err := s.pool.Query(ctx, specBuildsSQL, hashes, perSpec)
	if err != nil {
		return nil, wrap("list spec builds", err)
	}
	builds, err := collect(rs, rows.SpecBuilds())
	return builds, wrap("list spec builds", err)
}

// MatrixCounts counts a package's builds by version, compiler, arch and status.
func (s *Store) MatrixCounts(ctx context.Context, name string) ([]store.MatrixCount, error) {
	rs, err := s.pool.Query(ctx, reads.MatrixCounts, name)
	if err != nil {
		return nil, wrap("count matrix", err)
	}
	counts, err := collect(rs, rows.MatrixCounts())
	return counts, wrap("count matrix", err)
}
