-- The auth service's tables: users and their API tokens. A token is kept as its public
-- lookup prefix and a hash of the whole token, never in clear. Table names carry the
-- service's name, since the services may share one database.

-- +goose Up
CREATE TABLE auth_users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (octet_length(name) BETWEEN 1 AND 150),
    admin      boolean NOT NULL DEFAULT false,
    disabled   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);

CREATE TABLE auth_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    prefix       text NOT NULL UNIQUE CHECK (length(prefix) BETWEEN 1 AND 64),
    hash         bytea NOT NULL CHECK (length(hash) BETWEEN 1 AND 64),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- A user's tokens: listing, revoking and rotating them, and the cascade of a deletion.
CREATE INDEX auth_tokens_user_id ON auth_tokens (user_id);

-- +goose Down
DROP TABLE auth_tokens;
DROP TABLE auth_users;
