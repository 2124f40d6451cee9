-- SCIM 2.0: userName, externalId and versions (ETags) on users and groups,
-- the other SCIM user attributes, multi-valued emails and phone numbers,
-- and SCIM tokens. Kept in step with migrations/sqlite.

-- userName is the login name; it defaults to the email and is unique per
-- tenant regardless of case (user_name_key = fold(user_name)).
ALTER TABLE users ADD COLUMN user_name text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN user_name_key text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN external_id text COLLATE "C";
-- Bumped by every change: the SCIM ETag.
ALTER TABLE users ADD COLUMN version integer NOT NULL DEFAULT 1;
UPDATE users SET user_name = email, user_name_key = email_key;
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, user_name_key);
CREATE INDEX users_tenant_external_id ON users (tenant_id, external_id);

-- SCIM attributes with no native counterpart (one row per user, when set).
CREATE TABLE user_attributes (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    display_name text COLLATE "C",
    nick_name text COLLATE "C",
    title text COLLATE "C",
    user_type text COLLATE "C",
    preferred_language text COLLATE "C",
    locale text COLLATE "C",
    timezone text COLLATE "C",
    profile_url text COLLATE "C",
    employee_number text COLLATE "C",
    cost_center text COLLATE "C",
    organization text COLLATE "C",
    division text COLLATE "C",
    department text COLLATE "C",
        manager_id uuid REFERENCES users (id) ON DELETE SET NULL,
    -- SCIM addresses, kept as given (not filterable).
    addresses jsonb
);
CREATE INDEX user_attributes_manager ON user_attributes (manager_id);

-- SCIM emails and phoneNumbers, in the order given. users.email and
-- users.phone_number hold the primary one.
CREATE TABLE user_emails (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position integer NOT NULL,
    value text COLLATE "C" NOT NULL,
    value_key text COLLATE "C" NOT NULL,
    type text COLLATE "C",
    is_primary boolean NOT NULL,
    display text COLLATE "C",
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_emails_value ON user_emails (value_key);
INSERT INTO user_emails (user_id, position, value, value_key, type, is_primary, display)
    SELECT id, 0, email, email_key, NULL, true, NULL FROM users;

CREATE TABLE user_phone_numbers (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position integer NOT NULL,
    value text COLLATE "C" NOT NULL,
    type text COLLATE "C",
    is_primary boolean NOT NULL,
    display text COLLATE "C",
        PRIMARY KEY (user_id, position)
);
INSERT INTO user_phone_numbers (user_id, position, value, type, is_primary, display)
    SELECT id, 0, phone_number, NULL, true, NULL FROM users WHERE phone_number IS NOT NULL;

ALTER TABLE groups ADD COLUMN external_id text COLLATE "C";
ALTER TABLE groups ADD COLUMN version integer NOT NULL DEFAULT 1;
CREATE INDEX groups_tenant_external_id ON groups (tenant_id, external_id);

CREATE TABLE scim_tokens (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    -- The scheme of the SSO provider the token is tied to (Aritma form).
    provider text COLLATE "C",
    provider_display_name text COLLATE "C",
    -- Hex SHA-256 of the token; the token itself is shown once.
    token_hash text COLLATE "C" NOT NULL,
    -- The token's last four characters, to tell tokens apart in lists.
    token_hint text COLLATE "C" NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz
);
CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (token_hash);
CREATE INDEX scim_tokens_tenant ON scim_tokens (tenant_id, created_at);

-- Case-insensitive comparison for filters: NFC, then lowercase. SQLite gets
-- the same function from Rust on every connection (domain::user::fold).
-- ICU's root locale lowercases as Rust does (all scripts, final sigma),
-- whatever the database's own locale; without ICU, the database's ctype.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        CREATE FUNCTION ithbat_fold(text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT lower(normalize($1, NFC) COLLATE "und-x-icu")';
    ELSE
        CREATE FUNCTION ithbat_fold(text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT lower(normalize($1, NFC))';
    END IF;
END
$$;
