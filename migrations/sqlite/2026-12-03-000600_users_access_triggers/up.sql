-- The rebuild of users (users_without_email) dropped the table's triggers,
-- which move the tenant's access version when a user's status, email or
-- platform role changes or the user is deleted (access_version;
-- docs/design/authorization.md, "Caching callers"). They come back here,
-- as access_version made them. tests/api/system.rs checks that both
-- backends have triggers on the same tables.
CREATE TRIGGER IF NOT EXISTS users_access_update AFTER UPDATE OF status, email, is_platform_admin ON users
WHEN OLD.status IS NOT NEW.status OR OLD.email IS NOT NEW.email OR OLD.is_platform_admin IS NOT NEW.is_platform_admin
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER IF NOT EXISTS users_access_delete AFTER DELETE ON users
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;
