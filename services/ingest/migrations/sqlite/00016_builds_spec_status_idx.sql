-- The matrix counts a package's builds by spec and status before it joins each spec's
-- version, compiler and platform: from this index alone, the builds of a spec in status
-- order, rather than from every build's row through the (spec_id, env_id, owner_key) index.
-- At 62,000 builds, 1.5 ms of CPU against 3.5 ms for a package of 1,152 builds.

-- +goose Up
CREATE INDEX builds_spec_status_idx ON builds (spec_id, status);

-- +goose Down
DROP INDEX builds_spec_status_idx;
