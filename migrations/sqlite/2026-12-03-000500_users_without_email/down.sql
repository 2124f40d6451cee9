-- Users without an email get their userName as email.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
-- users_new, not a rename of the old table: renaming the old table would
-- make every foreign key that references it follow the rename.
DROP TABLE IF EXISTS users_new;
CREATE TABLE users_new (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- NFC + Unicode lowercase of email, computed in Rust: SQLite's lower()
    -- folds ASCII only, and uniqueness must hold for non-ASCII addresses.
    -- NULL with email: NULLs never collide in users_tenant_email_key.
    email_key TEXT NOT NULL,
    -- Lowercase names and email, for case-insensitive search with LIKE.
    search_key TEXT NOT NULL,
    first_name TEXT NOT NULL,
    father_name TEXT NOT NULL,
    grandfather_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    phone_number TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'pending')),
    email_verified BOOLEAN NOT NULL,
    password_hash TEXT,
    password_changed_at TEXT,
    mfa_enabled BOOLEAN NOT NULL,
    is_platform_admin BOOLEAN NOT NULL,
    preferences TEXT NOT NULL,
    metadata TEXT NOT NULL,
    external_ids TEXT NOT NULL,
    last_login_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    user_name TEXT NOT NULL DEFAULT '',
    user_name_key TEXT NOT NULL DEFAULT '',
    external_id TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    organization_id TEXT REFERENCES organizations (id) ON DELETE RESTRICT,
    name_key TEXT NOT NULL DEFAULT '',
    picture_url TEXT,
    sso_channel TEXT,
    joined_at TEXT,
    invitation_expires_at TEXT
);
INSERT INTO users_new (id, tenant_id, email, email_key, search_key, first_name, father_name, grandfather_name, family_name, phone_number, status, email_verified, password_hash, password_changed_at, mfa_enabled, is_platform_admin, preferences, metadata, external_ids, last_login_at, created_at, updated_at, user_name, user_name_key, external_id, version, organization_id, name_key, picture_url, sso_channel, joined_at, invitation_expires_at)
    SELECT id, tenant_id, COALESCE(email, user_name), COALESCE(email_key, user_name_key), search_key, first_name, father_name, grandfather_name, family_name, phone_number, status, email_verified, password_hash, password_changed_at, mfa_enabled, is_platform_admin, preferences, metadata, external_ids, last_login_at, created_at, updated_at, user_name, user_name_key, external_id, version, organization_id, name_key, picture_url, sso_channel, joined_at, invitation_expires_at FROM users;
DROP TABLE users;
PRAGMA legacy_alter_table = ON;
ALTER TABLE users_new RENAME TO users;
PRAGMA legacy_alter_table = OFF;
-- Every index and trigger of users, as the earlier migrations made them.
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, email_key);
CREATE INDEX users_tenant_created ON users (tenant_id, created_at, id);
CREATE INDEX users_tenant_status ON users (tenant_id, status, created_at, id);
CREATE INDEX users_tenant_updated ON users (tenant_id, updated_at, id);
CREATE INDEX users_tenant_last_login ON users (tenant_id, last_login_at, id);
CREATE INDEX users_tenant_first_name ON users (tenant_id, first_name, id);
CREATE INDEX users_tenant_family_name ON users (tenant_id, family_name, id);
CREATE INDEX users_tenant_search ON users (tenant_id, search_key, id);
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, user_name_key);
CREATE INDEX users_tenant_external_id ON users (tenant_id, external_id);
CREATE INDEX users_tenant_name ON users (tenant_id, name_key, id);
CREATE INDEX users_tenant_joined ON users (tenant_id, joined_at, id);
CREATE INDEX users_tenant_invitation ON users (tenant_id, invitation_expires_at, id);
CREATE INDEX users_tenant_sso_channel ON users (tenant_id, sso_channel, id);
CREATE INDEX users_organization ON users (organization_id, id);
CREATE TRIGGER users_access_update AFTER UPDATE OF status, email, is_platform_admin ON users
WHEN OLD.status IS NOT NEW.status OR OLD.email IS NOT NEW.email OR OLD.is_platform_admin IS NOT NEW.is_platform_admin
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER users_access_delete AFTER DELETE ON users
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;
COMMIT;
PRAGMA foreign_keys = ON;
