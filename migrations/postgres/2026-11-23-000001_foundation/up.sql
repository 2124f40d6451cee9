-- Foundation: tenants, users, roles, sessions, refresh tokens, login
-- throttling, signing keys and the audit log.
-- Kept in step with migrations/sqlite (a test compares the two schemas).
-- Text compares byte-wise (COLLATE "C"), as in SQLite, so that sorting and
-- ordering comparisons mean the same on both backends.

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text COLLATE "C" NOT NULL,
    -- Unicode lowercase of name, for case-insensitive search on both backends.
    name_key text COLLATE "C" NOT NULL,
    slug text COLLATE "C" NOT NULL,
    plan text COLLATE "C" NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    status text COLLATE "C" NOT NULL CHECK (status IN ('active', 'suspended')),
    rate_limit_per_minute integer,
    settings jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_created ON tenants (created_at);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email text COLLATE "C" NOT NULL,
    -- NFC + Unicode lowercase of email, computed in Rust: SQLite's lower()
    -- folds ASCII only, and uniqueness must hold for non-ASCII addresses.
    email_key text COLLATE "C" NOT NULL,
    -- Lowercase names and email, for case-insensitive search with LIKE.
    search_key text COLLATE "C" NOT NULL,
    first_name text COLLATE "C" NOT NULL,
    father_name text COLLATE "C" NOT NULL,
    grandfather_name text COLLATE "C" NOT NULL,
    family_name text COLLATE "C" NOT NULL,
    phone_number text COLLATE "C",
    status text COLLATE "C" NOT NULL CHECK (status IN ('active', 'suspended', 'pending')),
    email_verified boolean NOT NULL,
    password_hash text COLLATE "C",
    password_changed_at timestamptz,
    mfa_enabled boolean NOT NULL,
    is_platform_admin boolean NOT NULL,
    preferences jsonb NOT NULL,
    metadata jsonb NOT NULL,
    external_ids jsonb NOT NULL,
    last_login_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
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

-- PostgreSQL only: substring search through a trigram index when pg_trgm can
-- be created (a trusted extension since PostgreSQL 13, so a database owner
-- may). Without it, search scans users_tenant_search instead.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm is unavailable: user search will scan an index instead';
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX users_search_trgm ON users USING gin (search_key gin_trgm_ops);
    END IF;
END
$$;

CREATE TABLE roles (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    description text COLLATE "C" NOT NULL,
    -- 'owner', 'admin' or 'member' for the roles every tenant is created with.
    builtin text COLLATE "C" CHECK (builtin IN ('owner', 'admin', 'member')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX roles_tenant_name_key ON roles (tenant_id, name_key);
CREATE UNIQUE INDEX roles_tenant_builtin ON roles (tenant_id, builtin);

CREATE TABLE role_permissions (
    role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission text COLLATE "C" NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE groups (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    description text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX groups_tenant_name_key ON groups (tenant_id, name_key);

CREATE TABLE group_members (
    group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent text COLLATE "C" NOT NULL,
    ip_address text COLLATE "C",
    device_type text COLLATE "C" NOT NULL,
    device_name text COLLATE "C" NOT NULL,
    location jsonb,
    remember_me boolean NOT NULL,
    -- Number of refresh-token rotations in this session.
    refresh_seq integer NOT NULL,
    created_at timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_tenant ON sessions (tenant_id, created_at);

CREATE TABLE refresh_tokens (
    -- Hex SHA-256 of the opaque token; the token itself is never stored.
    token_hash text COLLATE "C" PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Failed-login counting per (tenant, email), whether or not the email
-- belongs to a user, so that lockout cannot be used to enumerate accounts.
CREATE TABLE login_throttles (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email_key text COLLATE "C" NOT NULL,
    -- Failures in the current window.
    failed_count integer NOT NULL,
    -- Attempts admitted whose password is still being checked.
    pending_count integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    locked_until timestamptz,
    PRIMARY KEY (tenant_id, email_key)
);

CREATE TABLE signing_keys (
    kid text COLLATE "C" PRIMARY KEY,
    algorithm text COLLATE "C" NOT NULL,
    private_key_pem text COLLATE "C" NOT NULL,
    public_jwk jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    retired_at timestamptz
);

CREATE TABLE audit_events (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor_type text COLLATE "C" NOT NULL,
    actor_id uuid,
    actor_label text COLLATE "C",
    action text COLLATE "C" NOT NULL,
    target_type text COLLATE "C",
    target_id text COLLATE "C",
    status text COLLATE "C" NOT NULL CHECK (status IN ('success', 'failure')),
    ip_address text COLLATE "C",
    user_agent text COLLATE "C",
    details jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, created_at);
CREATE INDEX audit_events_tenant_action ON audit_events (tenant_id, action, created_at);
CREATE INDEX audit_events_tenant_actor ON audit_events (tenant_id, actor_id, created_at);
CREATE INDEX audit_events_tenant_target ON audit_events (tenant_id, target_type, target_id, created_at);
