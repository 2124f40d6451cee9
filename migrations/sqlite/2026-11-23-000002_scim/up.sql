-- SCIM 2.0: userName, externalId and versions (ETags) on users and groups,
-- the other SCIM user attributes, multi-valued emails and phone numbers,
-- and SCIM tokens. Kept in step with migrations/postgres.

-- userName is the login name; it defaults to the email and is unique per
-- tenant regardless of case (user_name_key = fold(user_name)).
ALTER TABLE users ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN user_name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN external_id TEXT;
-- Bumped by every change: the SCIM ETag.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
UPDATE users SET user_name = email, user_name_key = email_key;
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, user_name_key);
CREATE INDEX users_tenant_external_id ON users (tenant_id, external_id);

-- SCIM attributes with no native counterpart (one row per user, when set).
CREATE TABLE user_attributes (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    display_name TEXT,
    nick_name TEXT,
    title TEXT,
    user_type TEXT,
    preferred_language TEXT,
    locale TEXT,
    timezone TEXT,
    profile_url TEXT,
    employee_number TEXT,
    cost_center TEXT,
    organization TEXT,
    division TEXT,
    department TEXT,
        manager_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    -- SCIM addresses, kept as given (not filterable).
    addresses TEXT
);
CREATE INDEX user_attributes_manager ON user_attributes (manager_id);

-- SCIM emails and phoneNumbers, in the order given. users.email and
-- users.phone_number hold the primary one.
CREATE TABLE user_emails (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    value TEXT NOT NULL,
    value_key TEXT NOT NULL,
    type TEXT,
    is_primary BOOLEAN NOT NULL,
    display TEXT,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_emails_value ON user_emails (value_key);
INSERT INTO user_emails (user_id, position, value, value_key, type, is_primary, display)
    SELECT id, 0, email, email_key, NULL, true, NULL FROM users;

CREATE TABLE user_phone_numbers (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    value TEXT NOT NULL,
    type TEXT,
    is_primary BOOLEAN NOT NULL,
    display TEXT,
        PRIMARY KEY (user_id, position)
);
INSERT INTO user_phone_numbers (user_id, position, value, type, is_primary, display)
    SELECT id, 0, phone_number, NULL, true, NULL FROM users WHERE phone_number IS NOT NULL;

ALTER TABLE groups ADD COLUMN external_id TEXT;
ALTER TABLE groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX groups_tenant_external_id ON groups (tenant_id, external_id);

CREATE TABLE scim_tokens (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The scheme of the SSO provider the token is tied to (Aritma form).
    provider TEXT,
    provider_display_name TEXT,
    -- Hex SHA-256 of the token; the token itself is shown once.
    token_hash TEXT NOT NULL,
    -- The token's last four characters, to tell tokens apart in lists.
    token_hint TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (token_hash);
CREATE INDEX scim_tokens_tenant ON scim_tokens (tenant_id, created_at);
