-- Web login, as in the PostgreSQL migration: the external identities linked to users, and web
-- sessions kept as rows of auth_tokens (session = 1) so that ending one revokes its tokens
-- through the revocation list like an API token's. A session row's hash matches no secret.

-- +goose Up
ALTER TABLE auth_tokens ADD COLUMN session INTEGER NOT NULL DEFAULT 0 CHECK (session IN (0, 1));

CREATE TABLE auth_identities (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    provider       TEXT NOT NULL CHECK (length(CAST(provider AS BLOB)) BETWEEN 1 AND 512),
    subject        TEXT NOT NULL CHECK (length(CAST(subject AS BLOB)) BETWEEN 1 AND 512),
    email          TEXT NOT NULL DEFAULT '' CHECK (length(CAST(email AS BLOB)) <= 320),
    email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    created_at     TEXT NOT NULL,
    UNIQUE (provider, subject)
) STRICT;
CREATE INDEX auth_identities_user_id ON auth_identities (user_id);
CREATE INDEX auth_identities_verified_email ON auth_identities (email) WHERE email_verified = 1;

-- +goose Down
DROP TABLE auth_identities;
ALTER TABLE auth_tokens DROP COLUMN session;
