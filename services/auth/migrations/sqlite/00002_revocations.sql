-- As in the PostgreSQL migration: revocations recorded by triggers. And user ids are never
-- handed out twice: ids of INTEGER PRIMARY KEY without AUTOINCREMENT are reused after the
-- newest user is deleted, and builds are owned by user id. That takes rebuilding auth_users,
-- with foreign keys off (dropping it would otherwise cascade to auth_tokens), hence no goose
-- transaction but one of its own.

-- +goose NO TRANSACTION
-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE auth_users_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 150),
    admin      INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    disabled   INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;
INSERT INTO auth_users_new (id, name, admin, disabled, created_at)
    SELECT id, name, admin, disabled, created_at FROM auth_users;
DROP TABLE auth_users;
ALTER TABLE auth_users_new RENAME TO auth_users;

CREATE TABLE auth_revocations (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    api_token_id INTEGER,
    revoked_at   TEXT NOT NULL
) STRICT;
CREATE INDEX auth_revocations_revoked_at ON auth_revocations (revoked_at);

-- +goose StatementBegin
CREATE TRIGGER auth_users_disabled AFTER UPDATE OF disabled ON auth_users
    FOR EACH ROW WHEN NEW.disabled AND NOT OLD.disabled
    BEGIN
        INSERT INTO auth_revocations (user_id, revoked_at)
            VALUES (OLD.id, strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'));
    END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_users_deleted AFTER DELETE ON auth_users
    FOR EACH ROW
    BEGIN
        INSERT INTO auth_revocations (user_id, revoked_at)
            VALUES (OLD.id, strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'));
    END;
-- +goose StatementEnd
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
DROP TRIGGER auth_tokens_revoked;
DROP TRIGGER auth_users_deleted;
DROP TRIGGER auth_users_disabled;
DROP TABLE auth_revocations;
