-- Foundation (SQLite: uuid, jsonb and timestamptz are TEXT): tenants, users, roles, sessions, refresh tokens, login
-- throttling, signing keys and the audit log.
-- Kept in step with migrations/postgres (a test compares the two schemas).

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Unicode lowercase of name, for case-insensitive search on both backends.
    name_key TEXT NOT NULL,
    slug TEXT NOT NULL,
    plan TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    rate_limit_per_minute INTEGER,
    settings TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_created ON tenants (created_at);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- NFC + Unicode lowercase of email, computed in Rust: SQLite's lower()
    -- folds ASCII only, and uniqueness must hold for non-ASCII addresses.
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
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, email_key);
-- The user list pages by (sort column, id) and reads ids from these indexes
-- alone before fetching the page's rows; search scans search_key in an index
-- rather than whole rows.
CREATE INDEX users_tenant_created ON users (tenant_id, created_at, id);
CREATE INDEX users_tenant_status ON users (tenant_id, status, created_at, id);
CREATE INDEX users_tenant_updated ON users (tenant_id, updated_at, id);
CREATE INDEX users_tenant_last_login ON users (tenant_id, last_login_at, id);
CREATE INDEX users_tenant_first_name ON users (tenant_id, first_name, id);
CREATE INDEX users_tenant_family_name ON users (tenant_id, family_name, id);
CREATE INDEX users_tenant_search ON users (tenant_id, search_key, id);

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    -- 'owner', 'admin' or 'member' for the roles every tenant is created with.
    builtin TEXT CHECK (builtin IN ('owner', 'admin', 'member')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX roles_tenant_name_key ON roles (tenant_id, name_key);
CREATE UNIQUE INDEX roles_tenant_builtin ON roles (tenant_id, builtin);

CREATE TABLE role_permissions (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX groups_tenant_name_key ON groups (tenant_id, name_key);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent TEXT NOT NULL,
    ip_address TEXT,
    device_type TEXT NOT NULL,
    device_name TEXT NOT NULL,
    location TEXT,
    remember_me BOOLEAN NOT NULL,
    -- Number of refresh-token rotations in this session.
    refresh_seq INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    last_activity_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_tenant ON sessions (tenant_id, created_at);

CREATE TABLE refresh_tokens (
    -- Hex SHA-256 of the opaque token; the token itself is never stored.
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Failed-login counting per (tenant, email), whether or not the email
-- belongs to a user, so that lockout cannot be used to enumerate accounts.
CREATE TABLE login_throttles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email_key TEXT NOT NULL,
    -- Failures in the current window.
    failed_count INTEGER NOT NULL,
    -- Attempts admitted whose password is still being checked.
    pending_count INTEGER NOT NULL,
    window_started_at TEXT NOT NULL,
    locked_until TEXT,
    PRIMARY KEY (tenant_id, email_key)
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    actor_label TEXT,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('success', 'failure')),
    ip_address TEXT,
    user_agent TEXT,
    details TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, created_at);
CREATE INDEX audit_events_tenant_action ON audit_events (tenant_id, action, created_at);
CREATE INDEX audit_events_tenant_actor ON audit_events (tenant_id, actor_id, created_at);
CREATE INDEX audit_events_tenant_target ON audit_events (tenant_id, target_type, target_id, created_at);
