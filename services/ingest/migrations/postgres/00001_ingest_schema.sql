-- The ingest service's tables: specs and their DAGs, build environments, builds, tags,
-- phases with their compressed logs, and the errors and warnings found in those logs.
-- Text columns carry length checks so that an oversized value is refused with a clear
-- constraint name instead of bloating rows and indexes.

-- +goose Up
CREATE TABLE compilers (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    text NOT NULL CHECK (length(name) BETWEEN 1 AND 250),
    version text NOT NULL CHECK (length(version) <= 250),
    UNIQUE (name, version)
);

-- Targets are global (one row per microarchitecture name). features and parents are JSON
-- arrays of names.
CREATE TABLE targets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (length(name) <= 250),
    vendor     text NOT NULL DEFAULT '' CHECK (length(vendor) <= 250),
    generation integer NOT NULL DEFAULT 0,
    features   text NOT NULL DEFAULT '[]' CHECK (length(features) <= 65536),
    parents    text NOT NULL DEFAULT '[]' CHECK (length(parents) <= 65536)
);

CREATE TABLE architectures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform    text NOT NULL CHECK (length(platform) <= 250),
    platform_os text NOT NULL CHECK (length(platform_os) <= 250),
    target_id   bigint NOT NULL REFERENCES targets (id),
    UNIQUE (platform, platform_os, target_id)
);

-- A spec is identified by (name, full_hash, spack_version). full_hash holds the node's
-- identity hash: its full_hash, or its DAG hash when the document had no full hash. A
-- stub row stands for a dependency referenced from outside any document stored so far;
-- only name, full_hash and spack_version are known until its node arrives.
CREATE TABLE specs (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 250),
    spack_version         text NOT NULL CHECK (length(spack_version) BETWEEN 1 AND 250),
    full_hash             text NOT NULL CHECK (length(full_hash) BETWEEN 1 AND 250),
    hash                  text NOT NULL DEFAULT '' CHECK (length(hash) <= 250),
    build_hash            text NOT NULL DEFAULT '' CHECK (length(build_hash) <= 250),
    package_hash          text NOT NULL DEFAULT '' CHECK (length(package_hash) <= 250),
    namespace             text NOT NULL DEFAULT '' CHECK (length(namespace) <= 250),
    version               text NOT NULL DEFAULT '' CHECK (length(version) <= 250),
    compiler_id           bigint REFERENCES compilers (id),
    arch_id               bigint REFERENCES architectures (id),
    parameters            text CHECK (length(parameters) <= 1048576),
    failed_concretization boolean NOT NULL DEFAULT false,
    stub                  boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, full_hash, spack_version)
);
-- Builds name their spec by full_hash or DAG hash alone (no package name).
CREATE INDEX specs_full_hash_idx ON specs (full_hash, spack_version);
CREATE INDEX specs_hash_idx ON specs (hash, spack_version);

-- types is the comma-joined dependency types ("build,link"); position keeps the order
-- in which the document listed the dependencies.
CREATE TABLE spec_dependencies (
    spec_id  bigint NOT NULL REFERENCES specs (id) ON DELETE CASCADE,
    dep_id   bigint NOT NULL REFERENCES specs (id) ON DELETE CASCADE,
    types    text NOT NULL DEFAULT '' CHECK (length(types) <= 250),
    position integer NOT NULL DEFAULT 0,
    PRIMARY KEY (spec_id, dep_id)
);
CREATE INDEX spec_dependencies_dep_idx ON spec_dependencies (dep_id);

CREATE TABLE build_environments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hostname       text NOT NULL CHECK (length(hostname) <= 250),
    kernel_version text NOT NULL CHECK (length(kernel_version) <= 250),
    host_os        text NOT NULL CHECK (length(host_os) <= 250),
    host_target    text NOT NULL CHECK (length(host_target) <= 250),
    platform       text NOT NULL CHECK (length(platform) <= 250),
    UNIQUE (hostname, kernel_version, host_os, host_target, platform)
);

-- owner is a user name: users live in the auth service, so there is no foreign key.
CREATE TABLE builds (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spec_id     bigint NOT NULL REFERENCES specs (id) ON DELETE CASCADE,
    env_id      bigint NOT NULL REFERENCES build_environments (id),
    owner       text NOT NULL CHECK (length(owner) BETWEEN 1 AND 250),
    status      text NOT NULL DEFAULT 'NOTRUN' CHECK (length(status) <= 25),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    finished_at timestamptz,
    UNIQUE (spec_id, env_id, owner)
);
-- The list filters, each paired with id for newest-first keyset pages.
CREATE INDEX builds_status_idx ON builds (status, id);
CREATE INDEX builds_owner_idx ON builds (owner, id);
CREATE INDEX builds_env_idx ON builds (env_id, id);
CREATE INDEX build_environments_hostname_idx ON build_environments (hostname);

-- folded is the lower-cased name: tags compare case-insensitively and keep the spelling
-- they were first created with.
CREATE TABLE tags (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name   text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    folded text NOT NULL UNIQUE CHECK (length(folded) BETWEEN 1 AND 400)
);

CREATE TABLE build_tags (
    build_id bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    tag_id   bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (build_id, tag_id)
);
CREATE INDEX build_tags_tag_idx ON build_tags (tag_id, build_id);

-- output is the zstd-compressed log, NULL when the client sent null instead of a log.
CREATE TABLE phases (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    build_id      bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    status        text NOT NULL CHECK (length(status) <= 50),
    output        bytea,
    output_null   boolean NOT NULL DEFAULT false,
    output_bytes  bigint NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),
    error_count   integer NOT NULL DEFAULT 0,
    warning_count integer NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL,
    UNIQUE (build_id, name),
    CHECK (output_null = (output IS NULL))
);
-- The output is already compressed: spare TOAST a second, futile attempt.
ALTER TABLE phases ALTER COLUMN output SET STORAGE EXTERNAL;

CREATE TABLE phase_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phase_id     bigint NOT NULL REFERENCES phases (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('error', 'warning')),
    line_no      integer NOT NULL,
    text         text NOT NULL CHECK (length(text) <= 1048576),
    source_file  text NOT NULL DEFAULT '' CHECK (length(source_file) <= 4096),
    source_line  integer NOT NULL DEFAULT 0,
    pre_context  text NOT NULL DEFAULT '' CHECK (length(pre_context) <= 8388608),
    post_context text NOT NULL DEFAULT '' CHECK (length(post_context) <= 8388608),
    start_line   integer NOT NULL,
    end_line     integer NOT NULL
);
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
