-- The auth service's tables, as in the PostgreSQL migrations. STRICT tables keep column
-- types honest; booleans are 0/1 integers and times are UTC text in the fixed-width form
-- 2006-01-02T15:04:05.000000Z, so that they compare as text.

-- +goose Up
CREATE TABLE auth_users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 150),
    admin      INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    disabled   INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE auth_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    prefix       TEXT NOT NULL UNIQUE CHECK (length(prefix) BETWEEN 1 AND 64),
    hash         BLOB NOT NULL CHECK (length(hash) BETWEEN 1 AND 64),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;

CREATE INDEX auth_tokens_user_id ON auth_tokens (user_id);

-- +goose Down
DROP TABLE auth_tokens;
DROP TABLE auth_users;
