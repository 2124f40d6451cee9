-- OAuth 2.0 clients (docs/api/iam.md), their secrets, and the grants
-- and refresh tokens the token endpoint issues to them.
-- Kept in step with migrations/postgres.

CREATE TABLE oauth_clients (
    -- The client_id: unique across tenants, so the token endpoint needs no tenant.
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Folded name and description, for searchText.
    search_key TEXT NOT NULL,
    -- JSON arrays of strings.
    grant_types TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX oauth_clients_tenant_created ON oauth_clients (tenant_id, created_at, id);

CREATE TABLE oauth_client_secrets (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    -- argon2id (PHC string): the value is the caller's and may be short.
    secret_hash TEXT NOT NULL,
    expires_at TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX oauth_client_secrets_client ON oauth_client_secrets (client_id, created_at);

-- One per token request: what its access tokens (sid) and refresh tokens
-- belong to, revoked as a whole.
CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    grant_type TEXT NOT NULL,
    -- Space-separated scopes granted.
    scope TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX oauth_grants_client ON oauth_grants (client_id, created_at);

CREATE TABLE oauth_refresh_tokens (
    -- Hex SHA-256 of the opaque token (256 random bits); never the token.
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);
