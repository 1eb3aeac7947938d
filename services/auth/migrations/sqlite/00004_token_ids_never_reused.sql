-- API token ids are never handed out twice, as user ids are not since 00002: an id of
-- INTEGER PRIMARY KEY without AUTOINCREMENT is reused once the newest token is deleted (with
-- its user), and the revocation list revokes tokens by that id for as long as it lists them
-- (8 hours): a new user's tokens were refused. PostgreSQL's identity columns never reuse ids.
-- The rebuild takes foreign keys off, as 00002 does; the sequence starts past every id
-- revoked as well as every id in use.

-- +goose NO TRANSACTION
-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE auth_tokens_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    prefix       TEXT NOT NULL UNIQUE CHECK (length(prefix) BETWEEN 1 AND 64),
    hash         BLOB NOT NULL CHECK (length(hash) BETWEEN 1 AND 64),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    session      INTEGER NOT NULL DEFAULT 0 CHECK (session IN (0, 1))
) STRICT;
INSERT INTO auth_tokens_new (id, user_id, prefix, hash, created_at, expires_at, last_used_at, revoked_at, session)
    SELECT id, user_id, prefix, hash, created_at, expires_at, last_used_at, revoked_at, session FROM auth_tokens;
DROP TABLE auth_tokens;
ALTER TABLE auth_tokens_new RENAME TO auth_tokens;
CREATE INDEX auth_tokens_user_id ON auth_tokens (user_id);
DELETE FROM sqlite_sequence WHERE name = 'auth_tokens';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'auth_tokens', max(coalesce((SELECT max(id) FROM auth_tokens), 0),
                              coalesce((SELECT max(api_token_id) FROM auth_revocations), 0));
-- +goose StatementBegin
CREATE TRIGGER auth_tokens_revoked AFTER UPDATE OF revoked_at ON auth_tokens
    FOR EACH ROW WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
    BEGIN
        INSERT INTO auth_revocations (user_id, api_token_id, revoked_at) VALUES (NEW.user_id, NEW.id, NEW.revoked_at);
    END;
-- +goose StatementEnd
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
-- The ids stay as they are: a table without AUTOINCREMENT would start reusing them again.
