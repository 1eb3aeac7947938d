-- Revocations of realm tokens before they expire, which every verifier fetches: a user
-- disabled or deleted revokes the user's tokens issued until then (api_token_id NULL), an API
-- token revoked (by rotation too) the tokens issued for it. Triggers record them, so that
-- every path that disables, deletes or revokes does. user_id has no foreign key: a deleted
-- user's revocation must outlive the user. Rows are pruned once no token they could revoke is
-- still valid.

-- +goose Up
CREATE TABLE auth_revocations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL,
    api_token_id bigint,
    revoked_at   timestamptz NOT NULL
);
CREATE INDEX auth_revocations_revoked_at ON auth_revocations (revoked_at);

-- +goose StatementBegin
CREATE FUNCTION auth_revoke_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO auth_revocations (user_id, revoked_at) VALUES (OLD.id, clock_timestamp());
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION auth_revoke_token() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO auth_revocations (user_id, api_token_id, revoked_at) VALUES (NEW.user_id, NEW.id, NEW.revoked_at);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER auth_users_disabled AFTER UPDATE OF disabled ON auth_users
    FOR EACH ROW WHEN (NEW.disabled AND NOT OLD.disabled) EXECUTE FUNCTION auth_revoke_user();
CREATE TRIGGER auth_users_deleted AFTER DELETE ON auth_users
    FOR EACH ROW EXECUTE FUNCTION auth_revoke_user();
CREATE TRIGGER auth_tokens_revoked AFTER UPDATE OF revoked_at ON auth_tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION auth_revoke_token();

-- +goose Down
DROP TRIGGER auth_tokens_revoked ON auth_tokens;
DROP TRIGGER auth_users_deleted ON auth_users;
DROP TRIGGER auth_users_disabled ON auth_users;
DROP FUNCTION auth_revoke_token();
DROP FUNCTION auth_revoke_user();
DROP TABLE auth_revocations;
