package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/spackmon/spackmon/pkg/tags"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// GetOrCreateBuild looks the spec and an existing build up on the reader pool, so that an
// unknown spec or a repeat never waits for the writer.
func (s *Store) GetOrCreateBuild(ctx context.Context, nb store.NewBuild) (store.BuildResult, error) {
	var res store.BuildResult
	var specID int64
	err := s.db.Read.QueryRowContext(ctx, reads.BuildSpec, nb.FullHash, nb.SpackVersion).Scan(&specID, &res.Build.SpecFullHash, &res.Build.SpecName)
	if errors.Is(err, sql.ErrNoRows) {
		return res, rows.SpecNotFound(nb.FullHash, nb.SpackVersion)
	}
	if err != nil {
		return res, wrap("get or create build", err)
	}
	if id, err := existingBuild(ctx, s.db.Read, specID, nb); err != nil || id != 0 {
		res.Build.ID = id
		return res, wrap("get or create build", err)
	}
	err = s.write(ctx, "get or create build", func(tx *sql.Tx) error {
		e := nb.Env
		env := []any{e.Hostname, e.KernelVersion, e.HostOS, e.HostTarget, e.Platform}
		envID, envCreated, err := getOrCreate(ctx, tx, `
INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform)
VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`, env, `
SELECT id FROM build_environments
WHERE hostname = ? AND kernel_version = ? AND host_os = ? AND host_target = ? AND platform = ?`, env)
		if err != nil {
			return err
		}
		build := []any{specID, envID, store.OwnerKey(nb.Owner, nb.OwnerID)}
		t := now()
		buildID, buildCreated, err := getOrCreate(ctx, tx, `
INSERT INTO builds (spec_id, env_id, owner_key, owner, status, created_at, updated_at)
VALUES (?, ?, ?, ?, 'NOTRUN', ?, ?) ON CONFLICT DO NOTHING RETURNING id`, slices.Concat(build, []any{nb.Owner, t, t}), `
SELECT id FROM builds WHERE spec_id = ? AND env_id = ? AND owner_key = ?`, build)
		if err != nil {
			return err
		}
		res.Build.ID, res.EnvCreated, res.BuildCreated = buildID, envCreated, buildCreated
		return addTags(ctx, tx, buildID, nb.Tags)
	})
	if err != nil {
		return store.BuildResult{}, err
	}
	return res, nil
}

// existingBuild is the id of the build nb asks for when it exists with all of nb's tags,
// else 0.
func existingBuild(ctx context.Context, q querier, specID int64, nb store.NewBuild) (int64, error) {
	e := nb.Env
	var id int64
	err := q.QueryRowContext(ctx, `
SELECT b.id FROM build_environments e JOIN builds b ON b.env_id = e.id
WHERE e.hostname = ? AND e.kernel_version = ? AND e.host_os = ? AND e.host_target = ? AND e.platform = ?
  AND b.spec_id = ? AND b.owner_key = ?`,
		e.Hostname, e.KernelVersion, e.HostOS, e.HostTarget, e.Platform, specID, store.OwnerKey(nb.Owner, nb.OwnerID)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil || len(nb.Tags) == 0 {
		return id, err
	}
	_, folded := tags.Distinct(nb.Tags)
	var have int
	err = q.QueryRowContext(ctx, `
SELECT count(*) FROM build_tags bt JOIN tags t ON t.id = bt.tag_id
WHERE bt.build_id = ? AND t.folded IN (SELECT value FROM jsonb_each(?))`, id, jsonText(folded)).Scan(&have)
	if err != nil || have < len(folded) {
		return 0, err
	}
	return id, nil
}

// getOrCreate runs insert (which returns the id only when it created the row), else
// lookup.
func getOrCreate(ctx context.Context, tx *sql.Tx, insert string, insertArgs []any, lookup string, lookupArgs []any) (id int64, created bool, err error) {
	err = tx.QueryRowContext(ctx, insert, insertArgs...).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, err
	}
	err = tx.QueryRowContext(ctx, lookup, lookupArgs...).Scan(&id)
	return id, false, err
}

type tagRow struct {
	Name   string `json:"name"`
	Folded string `json:"folded"`
}

func addTags(ctx context.Context, tx *sql.Tx, buildID int64, given []string) error {
	names, folded := tags.Distinct(given)
	if len(names) == 0 {
		return nil
	}
	add := make([]tagRow, len(names))
	for i := range names {
		add[i] = tagRow{names[i], folded[i]}
	}
	if _, err := tx.ExecContext(ctx, `
INSERT INTO tags (name, folded)
SELECT value->>'name', value->>'folded' FROM jsonb_each(?) WHERE true
ON CONFLICT DO NOTHING`, jsonText(add)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO build_tags (build_id, tag_id)
SELECT ?, id FROM tags WHERE folded IN (SELECT value FROM jsonb_each(?))
ON CONFLICT DO NOTHING`, buildID, jsonText(folded))
	return err
}

// UpdateBuildStatus sets the status and, on FAILED, settles the builds of the spec's
// direct dependencies that the same owner left NOTRUN in the same environment: FAILED
// when one of their phases failed, else CANCELLED.
func (s *Store) UpdateBuildStatus(ctx context.Context, actor store.Actor, buildID int64, status string) (store.BuildRef, error) {
	ref := store.BuildRef{ID: buildID}
	err := s.write(ctx, "update build status", func(tx *sql.Tx) error {
		if err := checkOwner(ctx, tx, actor, buildID); err != nil {
			return err
		}
		t := now()
		var specID, envID int64
		var owner string
		err := tx.QueryRowContext(ctx, `
UPDATE builds
SET status = ?2, updated_at = ?3,
    finished_at = CASE WHEN finished_at IS NULL AND ?2 IN ('SUCCESS', 'FAILED', 'CANCELLED')
                       THEN ?3 ELSE finished_at END
WHERE id = ?1
RETURNING spec_id, env_id, owner_key`, buildID, status, t).Scan(&specID, &envID, &owner)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT full_hash, name FROM specs WHERE id = ?`, specID).
			Scan(&ref.SpecFullHash, &ref.SpecName); err != nil {
			return err
		}
		if status != store.StatusFailed {
			return nil
		}
		_, err = tx.ExecContext(ctx, `
UPDATE builds
SET status = CASE WHEN EXISTS (SELECT 1 FROM phases p WHERE p.build_id = builds.id AND p.status IN ('ERROR', 'FAILED'))
                  THEN 'FAILED' ELSE 'CANCELLED' END,
    updated_at = ?4, finished_at = COALESCE(finished_at, ?4)
WHERE status = 'NOTRUN' AND owner_key = ?3 AND env_id = ?2
  AND spec_id IN (SELECT dep_id FROM spec_dependencies WHERE spec_id = ?1)`, specID, envID, owner, t)
		return err
	})
	return ref, err
}

// AdoptOwners gives each adoption's user the builds still owned by its name alone.
func (s *Store) AdoptOwners(ctx context.Context, adoptions []store.Adoption) (int, error) {
	var n int64
	err := s.write(ctx, "adopt owners", func(tx *sql.Tx) error {
		for _, a := range adoptions {
			res, err := tx.ExecContext(ctx, `UPDATE builds SET owner_key = ?1 WHERE owner_key = ?2 AND created_at >= ?3`,
				store.OwnerKey(a.Name, a.UserID), a.Name, a.Since.UTC().Format(timeLayout))
			if err != nil {
				return err
			}
			m, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	return int(n), err
}

// RenameOwner shows the user's builds as owned by name.
func (s *Store) RenameOwner(ctx context.Context, userID int64, name string) (int, error) {
	var n int64
	err := s.write(ctx, "rename owner", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE builds SET owner = ?1 WHERE owner_key = ?2`, name, store.OwnerKey(name, userID))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// checkOwner tells whether actor may change the build.
func checkOwner(ctx context.Context, q querier, actor store.Actor, buildID int64) error {
	var owner string
	err := q.QueryRowContext(ctx, `SELECT owner_key FROM builds WHERE id = ?`, buildID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return rows.BuildNotFound(buildID)
	}
	if err != nil {
		return err
	}
	if owner != actor.OwnerKey() && !actor.Admin {
		return rows.NotOwner()
	}
	return nil
}

// GetBuild reads the build with its tags and phases.
func (s *Store) GetBuild(ctx context.Context, id int64) (store.Build, error) {
	builds, err := s.readBuilds(ctx, reads.Build, id)
	if err != nil {
		return store.Build{}, wrap("get build", err)
	}
	if len(builds) == 0 {
		return store.Build{}, rows.BuildNotFound(id)
	}
	return builds[0], nil
}

// ListBuilds reads a page of builds, then the tags and phases of that page.
func (s *Store) ListBuilds(ctx context.Context, q store.BuildQuery) ([]store.Build, error) {
	if ok, err := readsql.ResolveDependency(ctx, &q, s.matchConstraint); !ok || err != nil {
		return nil, err
	}
	query, args := reads.ListBuilds(q)
	builds, err := s.readBuilds(ctx, query, args...)
	return builds, wrap("list builds", err)
}

func (s *Store) readBuilds(ctx context.Context, query string, args ...any) ([]store.Build, error) {
	rs, err := s.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	builds, err := collect(rs, rows.Builds(parseTime))
	if err != nil || len(builds) == 0 {
		return builds, err
	}
	page := rows.Page{Builds: builds}
	ids := jsonText(page.IDs())
	if err := s.readDetails(ctx, `
SELECT bt.build_id, t.name FROM build_tags bt JOIN tags t ON t.id = bt.tag_id
WHERE bt.build_id IN (SELECT value FROM jsonb_each(?)) ORDER BY bt.build_id, t.folded`, ids, page.AddTags); err != nil {
		return nil, err
	}
	if err := s.readDetails(ctx, `
SELECT build_id, name, status, output_bytes, error_count, warning_count, errors_total, warnings_total FROM phases
WHERE build_id IN (SELECT value FROM jsonb_each(?)) ORDER BY build_id, id`, ids, page.AddPhases); err != nil {
		return nil, err
	}
	return page.Builds, nil
}

// readDetails runs query for the builds ids (a JSON list) and reads its rows with add.
func (s *Store) readDetails(ctx context.Context, query, ids string, add func(rows.Iter) error) error {
	rs, err := s.db.Read.QueryContext(ctx, query, ids)
	if err != nil {
		return err
	}
	defer rs.Close()
	return add(rs)
}
