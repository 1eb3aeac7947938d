package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

func sqliteParam(n int) string { return "?" + strconv.Itoa(n) }

var (
	buildStatusSQL = rows.BuildStatusSQL(sqliteParam)
	cdashInfoSQL   = rows.CDashInfoSQL(sqliteParam)
)

// PutCDashPart applies a part in one transaction on the writer.
func (s *Store) PutCDashPart(ctx context.Context, actor store.Actor, p store.CDashPart) (store.CDashResult, error) {
	var res store.CDashResult
	err := s.write(ctx, "put cdash part", func(tx *sql.Tx) error {
		var err error
		res, err = cdashBuild(ctx, tx, actor, p)
		if err != nil {
			return err
		}
		id := res.BuildID
		if _, err := tx.ExecContext(ctx, cdashInfoSQL, append([]any{id}, rows.CDashInfoArgs(p.Info)...)...); err != nil {
			return err
		}
		if p.Phase != nil {
			ph := *p.Phase
			ph.BuildID = id
			if _, err := upsertPhase(ctx, tx, ph); err != nil {
				return err
			}
		}
		if p.ReplaceTests {
			if err := replaceTests(ctx, tx, id, p.Tests); err != nil {
				return err
			}
		}
		for _, a := range p.Attachments {
			if _, err := putAttachment(ctx, tx, id, a); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, buildStatusSQL, id, now())
		return err
	})
	return res, err
}

// cdashBuild finds the build of p.Key, checking that actor may change it, or creates it
// (a build of a stored spec is the one build of that spec, environment and owner: a later
// report of it under another key takes that build over)
// with its spec row, environment and cdash_builds row.
func cdashBuild(ctx context.Context, tx *sql.Tx, actor store.Actor, p store.CDashPart) (store.CDashResult, error) {
	k := p.Key
	var res store.CDashResult
	err := tx.QueryRowContext(ctx, `
SELECT cb.build_id, s.full_hash FROM cdash_builds cb JOIN builds b ON b.id = cb.build_id JOIN specs s ON s.id = b.spec_id
WHERE cb.source = ? AND cb.project = ? AND cb.site = ? AND cb.build_name = ? AND cb.stamp = ?`,
		k.Source, k.Project, k.Site, k.BuildName, k.Stamp).Scan(&res.BuildID, &res.SpecFullHash)
	if err == nil {
		return res, checkOwner(ctx, tx, actor, res.BuildID)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return res, err
	}
	t := now()
	specID, fullHash, err := storedSpec(ctx, tx, p.SpecHash)
	if err != nil {
		return res, err
	}
	if specID == 0 {
		fullHash = store.PlaceholderHash(k)
		specArgs := []any{p.SpecName, k.Source, fullHash}
		specID, _, err = getOrCreate(ctx, tx, `
INSERT INTO specs (name, spack_version, full_hash, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING RETURNING id`, append(specArgs, t), `
SELECT id FROM specs WHERE name = ? AND spack_version = ? AND full_hash = ?`, specArgs)
		if err != nil {
			return res, err
		}
	}
	res.SpecFullHash = fullHash
	e := p.Env
	env := []any{e.Hostname, e.KernelVersion, e.HostOS, e.HostTarget, e.Platform}
	envID, _, err := getOrCreate(ctx, tx, `
INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform)
VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`, env, `
SELECT id FROM build_environments
WHERE hostname = ? AND kernel_version = ? AND host_os = ? AND host_target = ? AND platform = ?`, env)
	if err != nil {
		return res, err
	}
	if err := tx.QueryRowContext(ctx, `
INSERT INTO builds (spec_id, env_id, owner_key, owner, status, created_at, updated_at)
VALUES (?, ?, ?, ?, 'NOTRUN', ?, ?)
ON CONFLICT (spec_id, env_id, owner_key) DO UPDATE SET updated_at = excluded.updated_at
RETURNING id`, specID, envID, actor.OwnerKey(), actor.Name, t, t).Scan(&res.BuildID); err != nil {
		return res, err
	}
	res.Created = true
	_, err = tx.ExecContext(ctx, `
INSERT INTO cdash_builds (build_id, source, project, site, build_name, stamp) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (build_id) DO UPDATE
SET source = excluded.source, project = excluded.project, site = excluded.site,
    build_name = excluded.build_name, stamp = excluded.stamp`,
		res.BuildID, k.Source, k.Project, k.Site, k.BuildName, k.Stamp)
	return res, err
}

// storedSpecSQL finds the newest Spack spec whose DAG hash or full hash is ?1.
var storedSpecSQL = `
SELECT s.id, s.full_hash FROM specs s
WHERE ` + specHashIs("?1") + ` AND s.spack_version NOT IN ('cdash', 'junit')
ORDER BY s.created_at DESC, s.id DESC LIMIT 1`

// storedSpec is the newest stored spec (not a CDash build's own row) whose DAG or full hash
// is hash; 0 when there is none.
func storedSpec(ctx context.Context, tx *sql.Tx, hash string) (int64, string, error) {
	if hash == "" {
		return 0, "", nil
	}
	var id int64
	var fullHash string
	err := tx.QueryRowContext(ctx, storedSpecSQL, hash).Scan(&id, &fullHash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return id, fullHash, err
}

func replaceTests(ctx context.Context, tx *sql.Tx, buildID int64, tests []store.Test) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM build_tests WHERE build_id = ?`, buildID); err != nil {
		return err
	}
	if len(tests) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `
INSERT INTO build_tests (build_id, name, path, full_name, command, status, duration, exit_code, exit_value,
                         completion_status, measurements, output, output_bytes)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (build_id, name) DO UPDATE
SET path = excluded.path, full_name = excluded.full_name, command = excluded.command, status = excluded.status,
    duration = excluded.duration, exit_code = excluded.exit_code, exit_value = excluded.exit_value,
    completion_status = excluded.completion_status, measurements = excluded.measurements,
    output = excluded.output, output_bytes = excluded.output_bytes`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, t := range tests {
		if _, err := stmt.ExecContext(ctx, buildID, t.Name, t.Path, t.FullName, t.Command, t.Status, t.Duration,
			t.ExitCode, t.ExitValue, t.CompletionStatus, t.Measurements, t.Output, t.OutputBytes); err != nil {
			return err
		}
	}
	return nil
}

func putAttachment(ctx context.Context, tx *sql.Tx, buildID int64, a store.Attachment) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `
INSERT INTO build_attachments (build_id, kind, name, content, size, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (build_id, kind, name) DO UPDATE
SET content = excluded.content, size = excluded.size, created_at = excluded.created_at
RETURNING id`, buildID, a.Kind, a.Name, a.Content, a.Size, now()).Scan(&id)
	return id, err
}

// AttachFile adds an attachment to one of actor's builds.
func (s *Store) AttachFile(ctx context.Context, actor store.Actor, buildID int64, a store.Attachment) (int64, error) {
	var id int64
	err := s.write(ctx, "attach file", func(tx *sql.Tx) error {
		if err := checkOwner(ctx, tx, actor, buildID); err != nil {
			return err
		}
		var err error
		id, err = putAttachment(ctx, tx, buildID, a)
		return err
	})
	return id, err
}

// ListTests reads a build's tests.
func (s *Store) ListTests(ctx context.Context, buildID int64, status string) ([]store.Test, error) {
	rs, err := s.db.Read.QueryContext(ctx, `
SELECT name, path, full_name, command, status, duration, exit_code, exit_value, completion_status,
       measurements, output, output_bytes
FROM build_tests WHERE build_id = ?1 AND (?2 = '' OR status = ?2) ORDER BY id`, buildID, status)
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
	rs, err := s.db.Read.QueryContext(ctx, `
SELECT id, kind, name, NULL, size, created_at FROM build_attachments WHERE build_id = ? ORDER BY id`, buildID)
	if err != nil {
		return nil, wrap("list attachments", err)
	}
	out, err := collect(rs, rows.Attachments(parseTime))
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
	rs, err := s.db.Read.QueryContext(ctx, `
SELECT id, kind, name, content, size, created_at FROM build_attachments WHERE build_id = ? AND id = ?`, buildID, id)
	if err != nil {
		return store.Attachment{}, wrap("get attachment", err)
	}
	out, err := collect(rs, rows.Attachments(parseTime))
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
