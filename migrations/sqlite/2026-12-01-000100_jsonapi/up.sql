-- The JSON:API dialect (docs/api/jsonapi.md): organizations, the account
-- attributes users lacked, role scopes, session nonces, and single-use account
-- tokens (invitations, password resets, email verification). Kept in step with
-- migrations/postgres.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX organizations_tenant_name_key ON organizations (tenant_id, name_key);
CREATE INDEX organizations_tenant_created ON organizations (tenant_id, created_at, id);
CREATE INDEX organizations_tenant_updated ON organizations (tenant_id, updated_at, id);

-- An organization with accounts cannot be deleted (RESTRICT).
ALTER TABLE users ADD COLUMN organization_id TEXT REFERENCES organizations (id) ON DELETE RESTRICT;
-- fold() of the full name: the account's `name`.
ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN picture_url TEXT;
ALTER TABLE users ADD COLUMN sso_channel TEXT;
ALTER TABLE users ADD COLUMN joined_at TEXT;
ALTER TABLE users ADD COLUMN invitation_expires_at TEXT;
-- ithbat_fold is registered on the migration connection (db::run_migrations).
UPDATE users SET
    name_key = COALESCE(ithbat_fold(concat_ws(' ', NULLIF(first_name, ''), NULLIF(father_name, ''),
        NULLIF(grandfather_name, ''), NULLIF(family_name, ''))), ''),
    joined_at = CASE WHEN status = 'pending' THEN NULL ELSE created_at END;
CREATE INDEX users_tenant_name ON users (tenant_id, name_key, id);
CREATE INDEX users_tenant_joined ON users (tenant_id, joined_at, id);
CREATE INDEX users_tenant_invitation ON users (tenant_id, invitation_expires_at, id);
CREATE INDEX users_tenant_sso_channel ON users (tenant_id, sso_channel, id);
CREATE INDEX users_organization ON users (organization_id, id);

-- Where a role applies: '/' is the whole tenant.
ALTER TABLE user_roles ADD COLUMN scope TEXT NOT NULL DEFAULT '/';
CREATE INDEX user_roles_scope ON user_roles (scope, user_id);

ALTER TABLE sessions ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
UPDATE sessions SET nonce = lower(hex(randomblob(16)));

CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL
        CHECK (purpose IN ('invitation', 'password_reset', 'email_verification')),
    redirect_url TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

INSERT OR IGNORE INTO role_permissions (role_id, permission)
    SELECT id, 'organization:read' FROM roles WHERE builtin IN ('owner', 'admin');
INSERT OR IGNORE INTO role_permissions (role_id, permission)
    SELECT id, 'organization:write' FROM roles WHERE builtin IN ('owner', 'admin');
