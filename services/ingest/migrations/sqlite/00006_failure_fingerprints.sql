-- Failure fingerprints (services/ingest/fingerprint): each error and warning event names the
-- failure it stands for, so that failures can be counted across builds and compared with a
-- build's reference; and the known causes admins attach to failures. The PostgreSQL
-- migration of the same number explains each table.

-- +goose Up
CREATE TABLE fingerprints (
    hash       TEXT PRIMARY KEY CHECK (length(hash) = 16),
    kind       TEXT NOT NULL CHECK (kind IN ('error', 'warning')),
    class      TEXT NOT NULL CHECK (length(class) BETWEEN 1 AND 50),
    normal     TEXT NOT NULL CHECK (length(normal) <= 16384),
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
) STRICT;

ALTER TABLE phase_events ADD COLUMN fingerprint TEXT CHECK (length(fingerprint) = 16);
CREATE INDEX phase_events_unprinted_idx ON phase_events (id) WHERE fingerprint IS NULL;

CREATE TABLE build_fingerprints (
    build_id      INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL REFERENCES fingerprints (hash),
    kind          TEXT NOT NULL CHECK (kind IN ('error', 'warning')),
    events        INTEGER NOT NULL CHECK (events > 0),
    example_event INTEGER NOT NULL,
    seen_at       TEXT NOT NULL,
    spec_id       INTEGER NOT NULL,
    env_id        INTEGER NOT NULL,
    PRIMARY KEY (build_id, fingerprint)
) STRICT;
CREATE INDEX build_fingerprints_print_idx ON build_fingerprints (fingerprint, build_id);
CREATE INDEX build_fingerprints_seen_idx ON build_fingerprints (kind, seen_at, fingerprint, build_id, spec_id, env_id);

CREATE TABLE known_causes (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 250),
    link        TEXT NOT NULL DEFAULT '' CHECK (length(link) <= 2048),
    pattern     TEXT NOT NULL DEFAULT '' CHECK (length(pattern) <= 1024),
    fingerprint TEXT NOT NULL DEFAULT '' CHECK (length(fingerprint) IN (0, 16)),
    created_by  TEXT NOT NULL CHECK (length(created_by) <= 250),
    created_at  TEXT NOT NULL,
    CHECK ((pattern = '') <> (fingerprint = ''))
) STRICT;

-- +goose Down
DROP TABLE known_causes;
DROP TABLE build_fingerprints;
DROP INDEX phase_events_unprinted_idx;
ALTER TABLE phase_events DROP COLUMN fingerprint;
DROP TABLE fingerprints;
