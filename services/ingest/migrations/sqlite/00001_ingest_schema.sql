-- The ingest service's tables, as in the PostgreSQL migrations. STRICT tables keep
-- column types honest; booleans are 0/1 integers and times are UTC text in the fixed-width
-- form 2006-01-02T15:04:05.000000Z, so that they sort as text.

-- +goose Up
CREATE TABLE compilers (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 250),
    version TEXT NOT NULL CHECK (length(version) <= 250),
    UNIQUE (name, version)
) STRICT;

CREATE TABLE targets (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(name) <= 250),
    vendor     TEXT NOT NULL DEFAULT '' CHECK (length(vendor) <= 250),
    generation INTEGER NOT NULL DEFAULT 0,
    features   TEXT NOT NULL DEFAULT '[]' CHECK (length(features) <= 65536),
    parents    TEXT NOT NULL DEFAULT '[]' CHECK (length(parents) <= 65536)
) STRICT;

CREATE TABLE architectures (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL CHECK (length(platform) <= 250),
    platform_os TEXT NOT NULL CHECK (length(platform_os) <= 250),
    target_id   INTEGER NOT NULL REFERENCES targets (id),
    UNIQUE (platform, platform_os, target_id)
) STRICT;

CREATE TABLE specs (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 250),
    spack_version         TEXT NOT NULL CHECK (length(spack_version) BETWEEN 1 AND 250),
    full_hash             TEXT NOT NULL CHECK (length(full_hash) BETWEEN 1 AND 250),
    hash                  TEXT NOT NULL DEFAULT '' CHECK (length(hash) <= 250),
    build_hash            TEXT NOT NULL DEFAULT '' CHECK (length(build_hash) <= 250),
    package_hash          TEXT NOT NULL DEFAULT '' CHECK (length(package_hash) <= 250),
    namespace             TEXT NOT NULL DEFAULT '' CHECK (length(namespace) <= 250),
    version               TEXT NOT NULL DEFAULT '' CHECK (length(version) <= 250),
    compiler_id           INTEGER REFERENCES compilers (id),
    arch_id               INTEGER REFERENCES architectures (id),
    parameters            TEXT CHECK (length(parameters) <= 1048576),
    failed_concretization INTEGER NOT NULL DEFAULT 0 CHECK (failed_concretization IN (0, 1)),
    stub                  INTEGER NOT NULL DEFAULT 0 CHECK (stub IN (0, 1)),
    created_at            TEXT NOT NULL,
    UNIQUE (name, full_hash, spack_version)
) STRICT;
CREATE INDEX specs_full_hash_idx ON specs (full_hash, spack_version);
CREATE INDEX specs_hash_idx ON specs (hash, spack_version);

CREATE TABLE spec_dependencies (
    spec_id  INTEGER NOT NULL REFERENCES specs (id) ON DELETE CASCADE,
    dep_id   INTEGER NOT NULL REFERENCES specs (id) ON DELETE CASCADE,
    types    TEXT NOT NULL DEFAULT '' CHECK (length(types) <= 250),
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (spec_id, dep_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX spec_dependencies_dep_idx ON spec_dependencies (dep_id);

CREATE TABLE build_environments (
    id             INTEGER PRIMARY KEY,
    hostname       TEXT NOT NULL CHECK (length(hostname) <= 250),
    kernel_version TEXT NOT NULL CHECK (length(kernel_version) <= 250),
    host_os        TEXT NOT NULL CHECK (length(host_os) <= 250),
    host_target    TEXT NOT NULL CHECK (length(host_target) <= 250),
    platform       TEXT NOT NULL CHECK (length(platform) <= 250),
    UNIQUE (hostname, kernel_version, host_os, host_target, platform)
) STRICT;
CREATE INDEX build_environments_hostname_idx ON build_environments (hostname);

-- AUTOINCREMENT: a build id is never handed out twice, even after the newest is deleted.
CREATE TABLE builds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    spec_id     INTEGER NOT NULL REFERENCES specs (id) ON DELETE CASCADE,
    env_id      INTEGER NOT NULL REFERENCES build_environments (id),
    owner       TEXT NOT NULL CHECK (length(owner) BETWEEN 1 AND 250),
    status      TEXT NOT NULL DEFAULT 'NOTRUN' CHECK (length(status) <= 25),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    finished_at TEXT,
    UNIQUE (spec_id, env_id, owner)
) STRICT;
CREATE INDEX builds_status_idx ON builds (status, id);
CREATE INDEX builds_owner_idx ON builds (owner, id);
CREATE INDEX builds_env_idx ON builds (env_id, id);

CREATE TABLE tags (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    folded TEXT NOT NULL UNIQUE CHECK (length(folded) BETWEEN 1 AND 400)
) STRICT;

CREATE TABLE build_tags (
    build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    tag_id   INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (build_id, tag_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX build_tags_tag_idx ON build_tags (tag_id, build_id);

CREATE TABLE phases (
    id            INTEGER PRIMARY KEY,
    build_id      INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    status        TEXT NOT NULL CHECK (length(status) <= 50),
    output        BLOB,
    output_null   INTEGER NOT NULL DEFAULT 0 CHECK (output_null IN (0, 1)),
    output_bytes  INTEGER NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),
    error_count   INTEGER NOT NULL DEFAULT 0,
    warning_count INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL,
    UNIQUE (build_id, name),
    CHECK (output_null = (output IS NULL))
) STRICT;

CREATE TABLE phase_events (
    id           INTEGER PRIMARY KEY,
    phase_id     INTEGER NOT NULL REFERENCES phases (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('error', 'warning')),
    line_no      INTEGER NOT NULL,
    text         TEXT NOT NULL CHECK (length(text) <= 1048576),
    source_file  TEXT NOT NULL DEFAULT '' CHECK (length(source_file) <= 4096),
    source_line  INTEGER NOT NULL DEFAULT 0,
    pre_context  TEXT NOT NULL DEFAULT '' CHECK (length(pre_context) <= 8388608),
    post_context TEXT NOT NULL DEFAULT '' CHECK (length(post_context) <= 8388608),
    start_line   INTEGER NOT NULL,
    end_line     INTEGER NOT NULL
) STRICT;
CREATE INDEX phase_events_phase_idx ON phase_events (phase_id, line_no);

-- +goose Down
DROP TABLE phase_events;
DROP TABLE phases;
DROP TABLE build_tags;
DROP TABLE tags;
DROP TABLE builds;
DROP TABLE build_environments;
DROP TABLE spec_dependencies;
DROP TABLE specs;
DROP TABLE architectures;
DROP TABLE targets;
DROP TABLE compilers;
