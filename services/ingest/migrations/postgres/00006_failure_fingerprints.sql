-- Failure fingerprints (services/ingest/fingerprint): each error and warning event names the
-- failure it stands for, so that failures can be counted across builds and compared with a
-- build's reference; and the known causes admins attach to failures.

-- +goose Up
-- One row per fingerprint: its normalised text and class, and when a build first and last
-- reported it.
CREATE TABLE fingerprints (
    hash       text PRIMARY KEY CHECK (length(hash) = 16),
    kind       text NOT NULL CHECK (kind IN ('error', 'warning')),
    class      text NOT NULL CHECK (length(class) BETWEEN 1 AND 50),
    normal     text NOT NULL CHECK (length(normal) <= 16384),
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL
);

-- NULL until fingerprinted: events stored before this migration get theirs from the
-- background backfill, which finds them by the partial index.
ALTER TABLE phase_events ADD COLUMN fingerprint text CHECK (length(fingerprint) = 16);
CREATE INDEX phase_events_unprinted_idx ON phase_events (id) WHERE fingerprint IS NULL;

-- One row per build and fingerprint, rewritten with the build's events: the failure list,
-- the "seen in N other builds" counts and the delta read these instead of every event.
-- seen_at is the build's creation time, spec_id and env_id the build's, so that the failure
-- list reads a window and its distinct packages, compilers and hosts without the builds.
CREATE TABLE build_fingerprints (
    build_id      bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    fingerprint   text NOT NULL REFERENCES fingerprints (hash),
    kind          text NOT NULL CHECK (kind IN ('error', 'warning')),
    events        integer NOT NULL CHECK (events > 0),
    example_event bigint NOT NULL,
    seen_at       timestamptz NOT NULL,
    spec_id       bigint NOT NULL,
    env_id        bigint NOT NULL,
    PRIMARY KEY (build_id, fingerprint)
);
CREATE INDEX build_fingerprints_print_idx ON build_fingerprints (fingerprint, build_id);
CREATE INDEX build_fingerprints_seen_idx ON build_fingerprints (kind, seen_at) INCLUDE (fingerprint, build_id, spec_id, env_id);

-- A known cause matches a fingerprint, or the normalised text of failures by a regular
-- expression (RE2), never both.
CREATE TABLE known_causes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 250),
    link        text NOT NULL DEFAULT '' CHECK (length(link) <= 2048),
    pattern     text NOT NULL DEFAULT '' CHECK (length(pattern) <= 1024),
    fingerprint text NOT NULL DEFAULT '' CHECK (length(fingerprint) IN (0, 16)),
    created_by  text NOT NULL CHECK (length(created_by) <= 250),
    created_at  timestamptz NOT NULL,
    CHECK ((pattern = '') <> (fingerprint = ''))
);

-- +goose Down
DROP TABLE known_causes;
DROP TABLE build_fingerprints;
DROP INDEX phase_events_unprinted_idx;
ALTER TABLE phase_events DROP COLUMN fingerprint;
DROP TABLE fingerprints;
