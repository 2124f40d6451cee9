-- Sign-in through external OpenID Connect providers and the identities linked
-- from them (docs/api/oauth.md). Kept in step with migrations/postgres.

CREATE TABLE sso_providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    scheme TEXT NOT NULL,
    display_name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    protocol TEXT NOT NULL,
    properties TEXT NOT NULL,
    client_secret_sealed TEXT,
    icon BLOB,
    icon_type TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX sso_providers_scheme ON sso_providers (tenant_id, scheme);

CREATE TABLE user_identities (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id INTEGER NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    email TEXT,
    created_at TEXT NOT NULL,
    last_login_at TEXT
);
CREATE UNIQUE INDEX user_identities_subject ON user_identities (provider_id, subject);
CREATE UNIQUE INDEX user_identities_user ON user_identities (user_id, provider_id);

CREATE TABLE sso_logins (
    state_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider_id INTEGER NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    authorization_request_id TEXT REFERENCES authorization_requests (id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    code_verifier_sealed TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX sso_logins_expiry ON sso_logins (expires_at);
