-- OAuth 2.0 clients (docs/api/iam.md), their secrets, and the grants
-- and refresh tokens the token endpoint issues to them.
-- Kept in step with migrations/sqlite.

CREATE TABLE oauth_clients (
    -- The client_id: unique across tenants, so the token endpoint needs no tenant.
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    description text COLLATE "C" NOT NULL,
    -- Folded name and description, for searchText.
    search_key text COLLATE "C" NOT NULL,
    -- JSON arrays of strings.
    grant_types jsonb NOT NULL,
    redirect_uris jsonb NOT NULL,
    scopes jsonb NOT NULL,
    enabled boolean NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX oauth_clients_tenant_created ON oauth_clients (tenant_id, created_at, id);

CREATE TABLE oauth_client_secrets (
    id uuid PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    description text COLLATE "C" NOT NULL,
    -- argon2id (PHC string): the value is the caller's and may be short.
    secret_hash text COLLATE "C" NOT NULL,
    expires_at timestamptz,
    created_by uuid,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz
);
CREATE INDEX oauth_client_secrets_client ON oauth_client_secrets (client_id, created_at);

-- One per token request: what its access tokens (sid) and refresh tokens
-- belong to, revoked as a whole.
CREATE TABLE oauth_grants (
    id uuid PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    grant_type text COLLATE "C" NOT NULL,
    -- Space-separated scopes granted.
    scope text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX oauth_grants_client ON oauth_grants (client_id, created_at);

CREATE TABLE oauth_refresh_tokens (
    -- Hex SHA-256 of the opaque token (256 random bits); never the token.
    token_hash text COLLATE "C" PRIMARY KEY,
    grant_id uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);
