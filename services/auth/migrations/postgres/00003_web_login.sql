-- Web login: the external identities linked to users (GitHub, OpenID Connect issuers), and
-- web sessions kept as rows of auth_tokens (session = true), so that ending one revokes its
-- tokens through the revocation list like an API token's. A session row's hash matches no
-- secret: nobody ever held one.

-- +goose Up
ALTER TABLE auth_tokens ADD COLUMN session boolean NOT NULL DEFAULT false;

CREATE TABLE auth_identities (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    provider       text NOT NULL CHECK (octet_length(provider) BETWEEN 1 AND 512),
    subject        text NOT NULL CHECK (octet_length(subject) BETWEEN 1 AND 512),
    email          text NOT NULL DEFAULT '' CHECK (octet_length(email) <= 320),
    email_verified boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX auth_identities_user_id ON auth_identities (user_id);
-- Linking by a verified address looks it up.
CREATE INDEX auth_identities_verified_email ON auth_identities (email) WHERE email_verified;

-- +goose Down
DROP TABLE auth_identities;
ALTER TABLE auth_tokens DROP COLUMN session;
