package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spackmon/spackmon/pkg/tags"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// GetOrCreateBuild costs two round trips: the spec look-up, then one batch.
func (s *Store) GetOrCreateBuild(ctx context.Context, nb store.NewBuild) (store.BuildResult, error) {
	var res store.BuildResult
	err := s.write(ctx, "get or create build", func() error {
		var err error
		res, err = s.getOrCreateBuild(ctx, nb)
		return err
	})
	return res, err
}

func (s *Store) getOrCreateBuild(ctx context.Context, nb store.NewBuild) (store.BuildResult, error) {
	var specID int64
	res := store.BuildResult{}
	err := s.pool.QueryRow(ctx, reads.BuildSpec, nb.FullHash, nb.SpackVersion).Scan(&specID, &res.Build.SpecFullHash, &res.Build.SpecName)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, rows.SpecNotFound(nb.FullHash, nb.SpackVersion)
	}
	if err != nil {
		return res, err
	}

	e := nb.Env
	envArgs := []any{e.Hostname, e.KernelVersion, e.HostOS, e.HostTarget, e.Platform}
	const envMatch = `e.hostname = $1 AND e.kernel_version = $2 AND e.host_os = $3 AND e.host_target = $4 AND e.platform = $5`
	buildArgs := slices.Concat(envArgs, []any{specID, store.OwnerKey(nb.Owner, nb.OwnerID)})

	b := &pgx.Batch{}
	b.Queue(`
INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
RETURNING id`, envArgs...).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			res.EnvCreated = true
		}
		return rs.Err()
	})
	t := now()
	b.Queue(`
INSERT INTO builds (spec_id, env_id, owner_key, owner, status, created_at, updated_at)
SELECT $6, e.id, $7, $9, 'NOTRUN', $8, $8 FROM build_environments e
WHERE `+envMatch+`
ON CONFLICT DO NOTHING
RETURNING id`, slices.Concat(buildArgs, []any{t, nb.Owner})...).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			res.BuildCreated = true
		}
		return rs.Err()
	})
	b.Queue(`
SELECT b.id FROM builds b JOIN build_environments e ON e.id = b.env_id
WHERE `+envMatch+` AND b.spec_id = $6 AND b.owner_key = $7`, buildArgs...).QueryRow(func(r pgx.Row) error {
		return r.Scan(&res.Build.ID)
	})
	if len(nb.Tags) > 0 {
		queueTags(b, nb.Tags, buildArgs, envMatch)
	}
	if err := s.sendBatch(ctx, b); err != nil {
		return store.BuildResult{}, err
	}
	return res, nil
}

// queueTags creates the tags that are missing (spelled as first seen) and links them to
// the build, which an earlier statement of the batch made sure exists.
func queueTags(b *pgx.Batch, given []string, buildArgs []any, envMatch string) {
	names, folded := tags.Distinct(given)
	b.Queue(`
INSERT INTO tags (name, folded)
SELECT * FROM unnest($1::text[], $2::text[]) AS i(name, folded)
ORDER BY i.folded
ON CONFLICT DO NOTHING`, names, folded)
	b.Queue(`
INSERT INTO build_tags (build_id, tag_id)
SELECT b.id, t.id
FROM builds b JOIN build_environments e ON e.id = b.env_id, tags t
WHERE `+envMatch+` AND b.spec_id = $6 AND b.owner_key = $7 AND t.folded = ANY($8::text[])
ORDER BY t.id
ON CONFLICT DO NOTHING`, slices.Concat(buildArgs, []any{folded})...)
}

// UpdateBuildStatus sets the status and, on FAILED, settles the builds of the spec's
// direct dependencies that the same owner left NOTRUN in the same environment: FAILED
// when one of their phases failed, else CANCELLED.
func (s *Store) UpdateBuildStatus(ctx context.Context, actor store.Actor, buildID int64, status string) (store.BuildRef, error) {
	var ref store.BuildRef
	err := s.write(ctx, "update build status", func() error {
		var err error
		ref, err = s.updateBuildStatus(ctx, actor, buildID, status)
		return err
	})
	return ref, err
}

func (s *Store) updateBuildStatus(ctx context.Context, actor store.Actor, buildID int64, status string) (store.BuildRef, error) {
	ref := store.BuildRef{ID: buildID}
	updated := false
	t := now()
	b := &pgx.Batch{}
	b.Queue(`
UPDATE builds b
SET status = $2, updated_at = $5,
    finished_at = CASE WHEN b.finished_at IS NULL AND $2 IN ('SUCCESS', 'FAILED', 'CANCELLED')
                       THEN $5 ELSE b.finished_at END
FROM specs s
WHERE b.id = $1 AND s.id = b.spec_id AND (b.owner_key = $3 OR $4)
RETURNING s.full_hash, s.name`, buildID, status, actor.OwnerKey(), actor.Admin, t).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			updated = true
			if err := rs.Scan(&ref.SpecFullHash, &ref.SpecName); err != nil {
				return err
			}
		}
		return rs.Err()
	})
	if status == store.StatusFailed {
		// Guarded like the update above, because a batch runs every statement.
		b.Queue(`
UPDATE builds d
SET status = CASE WHEN EXISTS (SELECT 1 FROM phases p WHERE p.build_id = d.id AND p.status IN ('ERROR', 'FAILED'))
                  THEN 'FAILED' ELSE 'CANCELLED' END,
    updated_at = $4, finished_at = COALESCE(d.finished_at, $4)
FROM builds b JOIN spec_dependencies sd ON sd.spec_id = b.spec_id
WHERE b.id = $1 AND (b.owner_key = $2 OR $3) AND b.status = 'FAILED'
  AND d.spec_id = sd.dep_id AND d.env_id = b.env_id AND d.owner_key = b.owner_key AND d.status = 'NOTRUN'`,
			buildID, actor.OwnerKey(), actor.Admin, t)
	}
	if err := s.sendBatch(ctx, b); err != nil {
		return ref, err
	}
	if !updated {
		return ref, s.whyNotUpdated(ctx, buildID)
	}
	return ref, nil
}

// AdoptOwners gives each adoption's user the builds still owned by its name alone.
func (s *Store) AdoptOwners(ctx context.Context, adoptions []store.Adoption) (int, error) {
	n := 0
	err := s.write(ctx, "adopt owners", func() error {
		n = 0 // a retry counts again
		b := &pgx.Batch{}
		for _, a := range adoptions {
			b.Queue(`UPDATE builds SET owner_key = $1 WHERE owner_key = $2 AND created_at >= $3`,
				store.OwnerKey(a.Name, a.UserID), a.Name, a.Since).Exec(func(tag pgconn.CommandTag) error {
				n += int(tag.RowsAffected())
				return nil
			})
		}
		return s.sendBatch(ctx, b)
	})
	return n, err
}

// RenameOwner shows the user's builds as owned by name.
func (s *Store) RenameOwner(ctx context.Context, userID int64, name string) (int, error) {
	n := 0
	err := s.write(ctx, "rename owner", func() error {
		tag, err := s.pool.Exec(ctx, `UPDATE builds SET owner = $1 WHERE owner_key = $2`, name, store.OwnerKey(name, userID))
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// whyNotUpdated tells a missing build from one the actor does not own.
func (s *Store) whyNotUpdated(ctx context.Context, buildID int64) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, reads.BuildExists, buildID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return rows.BuildNotFound(buildID)
	}
	return rows.NotOwner()
}

// GetBuild reads the build, its tags and its phases in one round trip.
func (s *Store) GetBuild(ctx context.Context, id int64) (store.Build, error) {
	var page rows.Page
	b := &pgx.Batch{}
	b.Queue(reads.Build, id).Query(func(rs pgx.Rows) error {
		var err error
		page.Builds, err = collect(rs, rows.Builds(utc))
		return err
	})
	queueDetails(b, []int64{id}, &page)
	if err := s.sendBatch(ctx, b); err != nil {
		return store.Build{}, wrap("get build", err)
	}
	if len(page.Builds) == 0 {
		return store.Build{}, rows.BuildNotFound(id)
	}
	return page.Builds[0], nil
}

// queueDetails reads the tags and phases of the builds ids into page, one query each.
func queueDetails(b *pgx.Batch, ids []int64, page *rows.Page) {
	b.Queue(`
SELECT bt.build_id, t.name FROM build_tags bt JOIN tags t ON t.id = bt.tag_id
WHERE bt.build_id = ANY($1) ORDER BY bt.build_id, t.folded`, ids).Query(func(rs pgx.Rows) error {
		return page.AddTags(rs)
	})
	b.Queue(`
SELECT build_id, name, status, output_bytes, error_count, warning_count, errors_total, warnings_total FROM phases
WHERE build_id = ANY($1) ORDER BY build_id, id`, ids).Query(func(rs pgx.Rows) error {
		return page.AddPhases(rs)
	})
}

// ListBuilds reads a page of builds, then the tags and phases of that page.
func (s *Store) ListBuilds(ctx context.Context, q store.BuildQuery) ([]store.Build, error) {
	if ok, err := readsql.ResolveDependency(ctx, &q, s.matchConstraint); !ok || err != nil {
		return nil, err
	}
	sql, args := reads.ListBuilds(q)
	var builds []store.Build
	err := s.list(ctx, readsql.Probes(q.DependencyIDs), sql, args, func(rs pgx.Rows) error {
		var err error
		builds, err = collect(rs, rows.Builds(utc))
		return err
	})
	if err != nil || len(builds) == 0 {
		return builds, wrap("list builds", err)
	}
	page := rows.Page{Builds: builds}
	b := &pgx.Batch{}
	queueDetails(b, page.IDs(), &page)
	if err := s.sendBatch(ctx, b); err != nil {
		return nil, wrap("list builds", err)
	}
	return page.Builds, nil
}
