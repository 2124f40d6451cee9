-- Multi-factor authentication (docs/design/sign-in.md): TOTP enrolments, backup
-- codes, the mfaToken challenges of the two-step sign-in, and the key that
-- seals TOTP secrets when ITHBAT_SECRET_KEY is not set.
-- Kept in step with migrations/sqlite (a test compares the two schemas).

CREATE TABLE sealing_keys (
    -- One row, 'default', so that instances starting together agree on it.
    name text COLLATE "C" PRIMARY KEY,
    -- Base64 of the 256-bit AES-GCM key.
    secret text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL
);

-- users.mfa_enabled mirrors enabled_at IS NOT NULL, written together.
CREATE TABLE user_mfa (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The TOTP secret sealed with AES-256-GCM (service::sealing), never clear.
    totp_secret text COLLATE "C" NOT NULL,
    -- NULL while the enrolment waits for its first code (verify-setup).
    enabled_at timestamptz,
    -- The RFC 6238 time step of the last code accepted: codes of that step
    -- or an earlier one are refused (replay).
    last_used_step bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX user_mfa_tenant ON user_mfa (tenant_id);

CREATE TABLE mfa_backup_codes (
    user_id uuid NOT NULL REFERENCES user_mfa (user_id) ON DELETE CASCADE,
    -- Hex SHA-256 of the user id and the code; codes are shown once.
    code_hash text COLLATE "C" NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A correct password of a user with MFA: the mfaToken to present with a code.
CREATE TABLE mfa_challenges (
    -- Hex SHA-256 of the mfaToken; the token itself is never stored.
    token_hash text COLLATE "C" PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember_me boolean NOT NULL,
    -- Codes tried against this token, counted before they are checked.
    attempts integer NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id, expires_at);
