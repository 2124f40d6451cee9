-- A user may have no email address: RFC 7643 section 4.1 requires only
-- userName, and identity providers (Microsoft Entra ID for users whose
-- `mail` is empty) provision users without `emails`. Such a user signs in
-- by userName (docs/api/ithbat.md, Sign in). Email stays unique per
-- tenant: NULLs never collide in users_tenant_email_key.
-- Kept in step with migrations/sqlite (a test compares the two schemas).
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
ALTER TABLE users ALTER COLUMN email_key DROP NOT NULL;
