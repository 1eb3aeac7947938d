package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

func pgParam(n int) string { return "$" + strconv.Itoa(n) }

var (
	buildStatusSQL = rows.BuildStatusSQL(pgParam)
	cdashInfoSQL   = rows.CDashInfoSQL(pgParam)
)

// PutCDashPart applies a part in one transaction. The transaction first takes a lock on
// the build's key, so that two first parts of one build sent at once make one build.
func (s *Store) PutCDashPart(ctx context.Context, actor store.Actor, p store.CDashPart) (store.CDashResult, error) {
	var res store.CDashResult
	err := s.write(ctx, "put cdash part", func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			res, err = cdashBuild(ctx, tx, actor, p)
			if err != nil {
				return err
			}
			id := res.BuildID
			t := now()
			b := &pgx.Batch{}
			b.Queue(cdashInfoSQL, append([]any{id}, rows.CDashInfoArgs(p.Info)...)...)
			var phase store.Phase
			found := false
			if p.Phase != nil {
				ph := *p.Phase
				ph.BuildID = id
				owned := []any{id, actor.OwnerKey(), true}
				b.Queue(`UPDATE builds SET updated_at = $2 WHERE id = $1`, id, t)
				queuePhase(b, owned, ph, t, &phase, &found)
			}
			if p.ReplaceTests {
				queueTests(b, id, p.Tests)
			}
			for _, a := range p.Attachments {
				queueAttachment(b, id, a, t, nil)
			}
			b.Queue(buildStatusSQL, id, t)
			return tx.SendBatch(ctx, b).Close()
		})
	})
	return res, err
}

// cdashBuild finds the build of p.Key, checking that actor may change it, or creates it
// (a build of a stored spec is the one build of that spec, environment and owner: a later
// report of it under another key takes that build over)
// with its spec row, environment and cdash_builds row.
func cdashBuild(ctx context.Context, tx pgx.Tx, actor store.Actor, p store.CDashPart) (store.CDashResult, error) {
	k := p.Key
	var res store.CDashResult
	hash := store.PlaceholderHash(k)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, hash); err != nil {
		return res, err
	}
	var owner string
	err := tx.QueryRow(ctx, `
SELECT cb.build_id, b.owner_key, s.full_hash FROM cdash_builds cb JOIN builds b ON b.id = cb.build_id JOIN specs s ON s.id = b.spec_id
WHERE cb.source = $1 AND cb.project = $2 AND cb.site = $3 AND cb.build_name = $4 AND cb.stamp = $5`,
		k.Source, k.Project, k.Site, k.BuildName, k.Stamp).Scan(&res.BuildID, &owner, &res.SpecFullHash)
	if err == nil {
		if owner != actor.OwnerKey() && !actor.Admin {
			return res, rows.NotOwner()
		}
		return res, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return res, err
	}
	t := now()
	e := p.Env
	var specID int64
	if p.SpecHash != "" {
		err = tx.QueryRow(ctx, `
SELECT id, full_hash FROM specs
WHERE (hash = $1 OR full_hash = $1) AND spack_version NOT IN ('cdash', 'junit')
ORDER BY created_at DESC, id DESC LIMIT 1`, p.SpecHash).Scan(&specID, &res.SpecFullHash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return res, err
		}
	}
	if specID == 0 {
		res.SpecFullHash = hash
		err = tx.QueryRow(ctx, `
INSERT INTO specs (name, spack_version, full_hash, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (name, full_hash, spack_version) DO UPDATE SET name = EXCLUDED.name
RETURNING id`, p.SpecName, k.Source, hash, t).Scan(&specID)
		if err != nil {
			return res, err
		}
	}
	err = tx.QueryRow(ctx, `
WITH env AS (
    INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform)
    VALUES ($3, $4, $5, $6, $7)
    ON CONFLICT (hostname, kernel_version, host_os, host_target, platform) DO UPDATE SET hostname = EXCLUDED.hostname
    RETURNING id
)
INSERT INTO builds (spec_id, env_id, owner_key, owner, status, created_at, updated_at)
SELECT $1, env.id, $8, $9, 'NOTRUN', $2, $2 FROM env
ON CONFLICT (spec_id, env_id, owner_key) DO UPDATE SET updated_at = EXCLUDED.updated_at
RETURNING id`, specID, t, e.Hostname, e.KernelVersion, e.HostOS, e.HostTarget, e.Platform,
		actor.OwnerKey(), actor.Name).Scan(&res.BuildID)
	if err != nil {
		return res, err
	}
	res.Created = true
	_, err = tx.Exec(ctx, `
INSERT INTO cdash_builds (build_id, source, project, site, build_name, stamp) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (build_id) DO UPDATE
SET source = EXCLUDED.source, project = EXCLUDED.project, site = EXCLUDED.site,
    build_name = EXCLUDED.build_name, stamp = EXCLUDED.stamp`,
		res.BuildID, k.Source, k.Project, k.Site, k.BuildName, k.Stamp)
	return res, err
}

func queueTests(b *pgx.Batch, buildID int64, tests []store.Test) {
	b.Queue(`DELETE FROM build_tests WHERE build_id = $1`, buildID)
	if len(tests) == 0 {
		return
	}
	n := len(tests)
	names, paths, fulls, cmds, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	codes, values, completions, measures := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	durations, sizes, outputs := make([]float64, n), make([]int64, n), make([][]byte, n)
	for i, t := range tests {
		names[i], paths[i], fulls[i], cmds[i], statuses[i] = t.Name, t.Path, t.FullName, t.Command, t.Status
		codes[i], values[i], completions[i], measures[i] = t.ExitCode, t.ExitValue, t.CompletionStatus, t.Measurements
		durations[i], sizes[i], outputs[i] = t.Duration, t.OutputBytes, t.Output
	}
	b.Queue(`
INSERT INTO build_tests (build_id, name, path, full_name, command, status, duration, exit_code, exit_value,
                         completion_status, measurements, output, output_bytes)
SELECT $1, t.name, t.path, t.full_name, t.command, t.status, t.duration, t.exit_code, t.exit_value,
       t.completion_status, t.measurements, t.output, t.output_bytes
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[], $9::text[],
            $10::text[], $11::text[], $12::bytea[], $13::bigint[]) WITH ORDINALITY
     AS t(name, path, full_name, command, status, duration, exit_code, exit_value, completion_status,
          measurements, output, output_bytes, ord)
ORDER BY t.ord
ON CONFLICT (build_id, name) DO UPDATE
SET path = EXCLUDED.path, full_name = EXCLUDED.full_name, command = EXCLUDED.command, status = EXCLUDED.status,
    duration = EXCLUDED.duration, exit_code = EXCLUDED.exit_code, exit_value = EXCLUDED.exit_value,
    completion_status = EXCLUDED.completion_status, measurements = EXCLUDED.measurements,
    output = EXCLUDED.output, output_bytes = EXCLUDED.output_bytes`,
		buildID, names, paths, fulls, cmds, statuses, durations, codes, values, completions, measures, outputs, sizes)
}

// queueAttachment queues the upsert of an attachment; id, when set, receives its id.
func queueAttachment(b *pgx.Batch, buildID int64, a store.Attachment, t any, id *int64) {
	q := b.Queue(`
INSERT INTO build_attachments (build_id, kind, name, content, size, created_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (build_id, kind, name) DO UPDATE
SET content = EXCLUDED.content, size = EXCLUDED.size, created_at = EXCLUDED.created_at
RETURNING id`, buildID, a.Kind, a.Name, a.Content, a.Size, t)
	if id != nil {
		q.QueryRow(func(r pgx.Row) error { return r.Scan(id) })
	}
}

// AttachFile adds an attachment to one of actor's builds.
func (s *Store) AttachFile(ctx context.Context, actor store.Actor, buildID int64, a store.Attachment) (int64, error) {
	var id int64
	err := s.write(ctx, "attach file", func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var owner string
			err := tx.QueryRow(ctx, `SELECT owner_key FROM builds WHERE id = $1 FOR UPDATE`, buildID).Scan(&owner)
			if errors.Is(err, pgx.ErrNoRows) {
				return rows.BuildNotFound(buildID)
			}
			if err != nil {
				return err
			}
			if owner != actor.OwnerKey() && !actor.Admin {
				return rows.NotOwner()
			}
			b := &pgx.Batch{}
			queueAttachment(b, buildID, a, now(), &id)
			return tx.SendBatch(ctx, b).Close()
		})
	})
	return id, err
}

// ListTests reads a build's tests.
func (s *Store) ListTests(ctx context.Context, buildID int64, status string) ([]store.Test, error) {
	rs, err := s.pool.Query(ctx, `
SELECT name, path, full_name, command, status, duration, exit_code, exit_value, completion_status,
       measurements, output, output_bytes
FROM build_tests WHERE build_id = $1 AND ($2 = '' OR status = $2) ORDER BY id`, buildID, status)
	if err != nil {
		return nil, wrap("list tests", err)
	}
	tests, err := collect(rs, rows.Tests())
	if err != nil {
		return nil, wrap("list tests", err)
	}
	if len(tests) == 0 {
		if err := s.buildExists(ctx, buildID); err != nil {
			return nil, err
		}
	}
	return tests, nil
}

// ListAttachments reads a build's attachments without content.
func (s *Store) ListAttachments(ctx context.Context, buildID int64) ([]store.Attachment, error) {
	rs, err := s.pool.Query(ctx, `
SELECT id, kind, name, NULL::bytea, size, created_at FROM build_attachments WHERE build_id = $1 ORDER BY id`, buildID)
	if err != nil {
		return nil, wrap("list attachments", err)
	}
	out, err := collect(rs, rows.Attachments(utc))
	if err != nil {
		return nil, wrap("list attachments", err)
	}
	if len(out) == 0 {
		if err := s.buildExists(ctx, buildID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetAttachment reads one attachment with its content.
func (s *Store) GetAttachment(ctx context.Context, buildID, id int64) (store.Attachment, error) {
	rs, err := s.pool.Query(ctx, `
SELECT id, kind, name, content, size, created_at FROM build_attachments WHERE build_id = $1 AND id = $2`, buildID, id)
	if err != nil {
		return store.Attachment{}, wrap("get attachment", err)
	}
	out, err := collect(rs, rows.Attachments(utc))
	if err != nil {
		return store.Attachment{}, wrap("get attachment", err)
	}
	if len(out) == 0 {
		if err := s.buildExists(ctx, buildID); err != nil {
			return store.Attachment{}, err
		}
		return store.Attachment{}, rows.AttachmentNotFound(buildID, id)
	}
	return out[0], nil
}
