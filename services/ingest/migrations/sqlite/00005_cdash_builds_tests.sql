-- Builds reported by CDash clients (ctest, Spack's CDash reporter) and JUnit files: what the
-- client said about the build, its tests, and the notes and files attached to it. A build
-- without a cdash_builds row came through the Spack Monitor protocol (source "ms1").

-- +goose Up
CREATE TABLE cdash_builds (
    build_id         INTEGER PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
    source           TEXT NOT NULL CHECK (source IN ('cdash', 'junit')),
    project          TEXT NOT NULL CHECK (length(project) <= 250),
    site             TEXT NOT NULL CHECK (length(site) <= 250),
    build_name       TEXT NOT NULL CHECK (length(build_name) <= 250),
    stamp            TEXT NOT NULL CHECK (length(stamp) <= 250),
    track            TEXT NOT NULL DEFAULT '' CHECK (length(track) <= 250),
    generator        TEXT NOT NULL DEFAULT '' CHECK (length(generator) <= 250),
    compiler_name    TEXT NOT NULL DEFAULT '' CHECK (length(compiler_name) <= 250),
    compiler_version TEXT NOT NULL DEFAULT '' CHECK (length(compiler_version) <= 250),
    os_name          TEXT NOT NULL DEFAULT '' CHECK (length(os_name) <= 250),
    os_release       TEXT NOT NULL DEFAULT '' CHECK (length(os_release) <= 250),
    os_version       TEXT NOT NULL DEFAULT '' CHECK (length(os_version) <= 250),
    os_platform      TEXT NOT NULL DEFAULT '' CHECK (length(os_platform) <= 250),
    revision         TEXT NOT NULL DEFAULT '' CHECK (length(revision) <= 250),
    update_status    TEXT NOT NULL DEFAULT '' CHECK (length(update_status) <= 65536),
    package          TEXT NOT NULL DEFAULT '' CHECK (length(package) <= 250),
    UNIQUE (source, project, site, build_name, stamp)
) STRICT;
CREATE INDEX cdash_builds_project_idx ON cdash_builds (project, build_id);
CREATE INDEX cdash_builds_site_idx ON cdash_builds (site, build_id);

CREATE TABLE build_tests (
    id                INTEGER PRIMARY KEY,
    build_id          INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    path              TEXT NOT NULL DEFAULT '' CHECK (length(path) <= 4096),
    full_name         TEXT NOT NULL DEFAULT '' CHECK (length(full_name) <= 4096),
    command           TEXT NOT NULL DEFAULT '' CHECK (length(command) <= 65536),
    status            TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'notrun')),
    duration          REAL NOT NULL DEFAULT 0,
    exit_code         TEXT NOT NULL DEFAULT '' CHECK (length(exit_code) <= 250),
    exit_value        TEXT NOT NULL DEFAULT '' CHECK (length(exit_value) <= 250),
    completion_status TEXT NOT NULL DEFAULT '' CHECK (length(completion_status) <= 250),
    measurements      TEXT NOT NULL DEFAULT '[]' CHECK (length(measurements) <= 1048576),
    output            BLOB NOT NULL,
    output_bytes      INTEGER NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),
    UNIQUE (build_id, name)
) STRICT;

CREATE TABLE build_attachments (
    id         INTEGER PRIMARY KEY,
    build_id   INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('note', 'file')),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 4096),
    content    BLOB NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    created_at TEXT NOT NULL,
    UNIQUE (build_id, kind, name)
) STRICT;

-- ctest reports how many times it saw an error or warning (RepeatCount).
ALTER TABLE phase_events ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0 CHECK (repeat_count >= 0);

-- +goose Down
ALTER TABLE phase_events DROP COLUMN repeat_count;
DROP TABLE build_attachments;
DROP TABLE build_tests;
DROP TABLE cdash_builds;
