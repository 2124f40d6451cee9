-- OAuth 2.0 authorization code with PKCE and OpenID Connect sign-in
-- through the hosted page. Kept in step with migrations/sqlite.

-- A sign-in in progress at /oauth/authorize: what the client asked for,
-- kept while the person signs in (10 minutes).
CREATE TABLE authorization_requests (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    redirect_uri text COLLATE "C" NOT NULL,
    scope text COLLATE "C" NOT NULL,
    state text COLLATE "C",
    nonce text COLLATE "C",
    code_challenge text COLLATE "C" NOT NULL,
    -- SHA-256 of the form's CSRF token (also in a cookie).
    csrf_hash text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX authorization_requests_expiry ON authorization_requests (expires_at);

-- Authorization codes (RFC 6749 4.1.2): SHA-256 of the code, single use,
-- 60 seconds, bound to the client, redirect URI and PKCE challenge.
CREATE TABLE authorization_codes (
    code_hash text COLLATE "C" PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    redirect_uri text COLLATE "C" NOT NULL,
    scope text COLLATE "C" NOT NULL,
    nonce text COLLATE "C",
    code_challenge text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX authorization_codes_session ON authorization_codes (session_id);

-- The browser's sign-in to the hosted pages: SHA-256 of a cookie, bound
-- to the session it started, so that a second client signs in at once.
CREATE TABLE browser_sessions (
    token_hash text COLLATE "C" PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX browser_sessions_session ON browser_sessions (session_id);

-- Refresh tokens an OAuth client holds for a user: the client and the
-- scope granted travel with every rotation. NULL for first-party sign-in.
ALTER TABLE refresh_tokens ADD COLUMN client_id uuid REFERENCES oauth_clients (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD COLUMN scope text COLLATE "C";
