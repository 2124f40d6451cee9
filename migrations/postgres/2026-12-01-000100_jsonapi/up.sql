-- The JSON:API dialect (docs/api/jsonapi.md): organizations, the account
-- attributes users lacked, role scopes, session nonces, and single-use account
-- tokens (invitations, password resets, email verification). Kept in step with
-- migrations/sqlite.

CREATE TABLE organizations (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_tenant_name_key ON organizations (tenant_id, name_key);
CREATE INDEX organizations_tenant_created ON organizations (tenant_id, created_at, id);
CREATE INDEX organizations_tenant_updated ON organizations (tenant_id, updated_at, id);

-- An organization with accounts cannot be deleted (RESTRICT): its accounts
-- move or go first.
ALTER TABLE users ADD COLUMN organization_id uuid REFERENCES organizations (id) ON DELETE RESTRICT;
-- fold() of the full name (every part that is set, joined by spaces): the
-- account's `name`, compared and sorted case-insensitively.
ALTER TABLE users ADD COLUMN name_key text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN picture_url text COLLATE "C";
-- How the account came to sign in: an SSO provider's scheme, or NULL.
ALTER TABLE users ADD COLUMN sso_channel text COLLATE "C";
-- When the account was first usable by its owner: at creation with a
-- password, or on accepting the invitation. NULL while invited.
ALTER TABLE users ADD COLUMN joined_at timestamptz;
ALTER TABLE users ADD COLUMN invitation_expires_at timestamptz;
UPDATE users SET
    name_key = COALESCE(ithbat_fold(concat_ws(' ', NULLIF(first_name, ''), NULLIF(father_name, ''),
        NULLIF(grandfather_name, ''), NULLIF(family_name, ''))), ''),
    joined_at = CASE WHEN status = 'pending' THEN NULL ELSE created_at END;
CREATE INDEX users_tenant_name ON users (tenant_id, name_key, id);
CREATE INDEX users_tenant_joined ON users (tenant_id, joined_at, id);
CREATE INDEX users_tenant_invitation ON users (tenant_id, invitation_expires_at, id);
CREATE INDEX users_tenant_sso_channel ON users (tenant_id, sso_channel, id);
CREATE INDEX users_organization ON users (organization_id, id);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX users_email_trgm ON users USING gin (email_key gin_trgm_ops);
        CREATE INDEX users_name_trgm ON users USING gin (name_key gin_trgm_ops);
        CREATE INDEX organizations_name_trgm ON organizations USING gin (name_key gin_trgm_ops);
    END IF;
END
$$;

-- Where a role applies: '/' is the whole tenant; a path such as
-- '/organizations/{id}' a part of it (the account's role_scope).
ALTER TABLE user_roles ADD COLUMN scope text COLLATE "C" NOT NULL DEFAULT '/';
CREATE INDEX user_roles_scope ON user_roles (scope, user_id);

-- A per-session random value (account_sessions.nonce); OpenID Connect
-- sign-ins keep the client's nonce here.
ALTER TABLE sessions ADD COLUMN nonce text COLLATE "C" NOT NULL DEFAULT '';
UPDATE sessions SET nonce = md5(random()::text || id::text);

-- Single-use tokens mailed to an account's owner. Only the SHA-256 of the
-- token is stored.
CREATE TABLE account_tokens (
    token_hash text COLLATE "C" PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text COLLATE "C" NOT NULL
        CHECK (purpose IN ('invitation', 'password_reset', 'email_verification')),
    -- Where the owner goes once the token is used (invitations).
    redirect_url text COLLATE "C",
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Organizations get their own permissions; the built-in roles that manage
-- the tenant hold them.
INSERT INTO role_permissions (role_id, permission)
    SELECT id, p FROM roles, (VALUES ('organization:read'), ('organization:write')) AS v (p)
    WHERE builtin IN ('owner', 'admin')
    ON CONFLICT DO NOTHING;
