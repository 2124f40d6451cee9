-- Multi-factor authentication (docs/design/sign-in.md): TOTP enrolments, backup
-- codes, the mfaToken challenges of the two-step sign-in, and the key that
-- seals TOTP secrets when ITHBAT_SECRET_KEY is not set.
-- Kept in step with migrations/postgres (a test compares the two schemas).

CREATE TABLE sealing_keys (
    -- One row, 'default', so that instances starting together agree on it.
    name TEXT PRIMARY KEY,
    -- Base64 of the 256-bit AES-GCM key.
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- users.mfa_enabled mirrors enabled_at IS NOT NULL, written together.
CREATE TABLE user_mfa (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The TOTP secret sealed with AES-256-GCM (service::sealing), never clear.
    totp_secret TEXT NOT NULL,
    -- NULL while the enrolment waits for its first code (verify-setup).
    enabled_at TEXT,
    -- The RFC 6238 time step of the last code accepted: codes of that step
    -- or an earlier one are refused (replay).
    last_used_step INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX user_mfa_tenant ON user_mfa (tenant_id);

CREATE TABLE mfa_backup_codes (
    user_id TEXT NOT NULL REFERENCES user_mfa (user_id) ON DELETE CASCADE,
    -- Hex SHA-256 of the user id and the code; codes are shown once.
    code_hash TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A correct password of a user with MFA: the mfaToken to present with a code.
CREATE TABLE mfa_challenges (
    -- Hex SHA-256 of the mfaToken; the token itself is never stored.
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember_me BOOLEAN NOT NULL,
    -- Codes tried against this token, counted before they are checked.
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id, expires_at);
