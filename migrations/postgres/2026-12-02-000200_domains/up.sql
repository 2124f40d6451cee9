-- A tenant's email domains (docs/api/iam.md) and their DNS verification.
-- Kept in step with migrations/sqlite.

CREATE TABLE tenant_domains (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Normalized in Rust: lowercase ASCII (IDNA A-labels), no trailing dot.
    name text COLLATE "C" NOT NULL,
    -- Published by the tenant in a TXT record; public, so kept in clear.
    verification_token text COLLATE "C" NOT NULL,
    verified_at timestamptz,
    created_by uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- A tenant registers a name once.
CREATE UNIQUE INDEX tenant_domains_tenant_name_key ON tenant_domains (tenant_id, name);
-- Only one tenant owns a verified name.
CREATE UNIQUE INDEX tenant_domains_verified_name_key ON tenant_domains (name)
    WHERE verified_at IS NOT NULL;
