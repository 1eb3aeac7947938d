-- Builds reported by CDash clients (ctest, Spack's CDash reporter) and JUnit files: what the
-- client said about the build, its tests, and the notes and files attached to it. A build
-- without a cdash_builds row came through the Spack Monitor protocol (source "ms1").

-- +goose Up
CREATE TABLE cdash_builds (
    build_id         bigint PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
    source           text NOT NULL CHECK (source IN ('cdash', 'junit')),
    project          text NOT NULL CHECK (length(project) <= 250),
    site             text NOT NULL CHECK (length(site) <= 250),
    build_name       text NOT NULL CHECK (length(build_name) <= 250),
    stamp            text NOT NULL CHECK (length(stamp) <= 250),
    track            text NOT NULL DEFAULT '' CHECK (length(track) <= 250),
    generator        text NOT NULL DEFAULT '' CHECK (length(generator) <= 250),
    compiler_name    text NOT NULL DEFAULT '' CHECK (length(compiler_name) <= 250),
    compiler_version text NOT NULL DEFAULT '' CHECK (length(compiler_version) <= 250),
    os_name          text NOT NULL DEFAULT '' CHECK (length(os_name) <= 250),
    os_release       text NOT NULL DEFAULT '' CHECK (length(os_release) <= 250),
    os_version       text NOT NULL DEFAULT '' CHECK (length(os_version) <= 250),
    os_platform      text NOT NULL DEFAULT '' CHECK (length(os_platform) <= 250),
    revision         text NOT NULL DEFAULT '' CHECK (length(revision) <= 250),
    update_status    text NOT NULL DEFAULT '' CHECK (length(update_status) <= 65536),
    package          text NOT NULL DEFAULT '' CHECK (length(package) <= 250),
    UNIQUE (source, project, site, build_name, stamp)
);
CREATE INDEX cdash_builds_project_idx ON cdash_builds (project, build_id);
CREATE INDEX cdash_builds_site_idx ON cdash_builds (site, build_id);

CREATE TABLE build_tests (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    build_id          bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    path              text NOT NULL DEFAULT '' CHECK (length(path) <= 4096),
    full_name         text NOT NULL DEFAULT '' CHECK (length(full_name) <= 4096),
    command           text NOT NULL DEFAULT '' CHECK (length(command) <= 65536),
    status            text NOT NULL CHECK (status IN ('passed', 'failed', 'notrun')),
    duration          double precision NOT NULL DEFAULT 0,
    exit_code         text NOT NULL DEFAULT '' CHECK (length(exit_code) <= 250),
    exit_value        text NOT NULL DEFAULT '' CHECK (length(exit_value) <= 250),
    completion_status text NOT NULL DEFAULT '' CHECK (length(completion_status) <= 250),
    measurements      text NOT NULL DEFAULT '[]' CHECK (length(measurements) <= 1048576),
    output            bytea NOT NULL,
    output_bytes      bigint NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),
    UNIQUE (build_id, name)
);

CREATE TABLE build_attachments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    build_id   bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('note', 'file')),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 4096),
    content    bytea NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    created_at timestamptz NOT NULL,
    UNIQUE (build_id, kind, name)
);

-- ctest reports how many times it saw an error or warning (RepeatCount).
ALTER TABLE phase_events ADD COLUMN repeat_count bigint NOT NULL DEFAULT 0 CHECK (repeat_count >= 0);

-- +goose Down
ALTER TABLE phase_events DROP COLUMN repeat_count;
DROP TABLE build_attachments;
DROP TABLE build_tests;
DROP TABLE cdash_builds;
