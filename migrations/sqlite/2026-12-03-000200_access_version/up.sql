-- The access version of a tenant: a counter that every change to what its
-- callers may do moves, in the transaction of the change (docs/design/authorization.md,
-- "Caching callers"). Each instance keeps resolved callers in memory and
-- reads this one column (a primary-key lookup) per request: a cached caller
-- is used only while the version it was resolved at is still the tenant's.
-- Triggers move it, so no write path can forget to: users' status, email
-- and platform role; sessions ended or shortened; roles and their
-- permissions; role assignments; groups and memberships; policies; OAuth
-- clients and grants; SCIM tokens; the tenant's status.

ALTER TABLE tenants ADD COLUMN access_version INTEGER NOT NULL DEFAULT 0;

-- SQLite runs triggers in the writing connection, in process: one UPDATE
-- of the tenant's row per changed row costs microseconds.

CREATE TRIGGER tenants_access_update AFTER UPDATE OF status ON tenants
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER users_access_update AFTER UPDATE OF status, email, is_platform_admin ON users
WHEN OLD.status IS NOT NEW.status OR OLD.email IS NOT NEW.email OR OLD.is_platform_admin IS NOT NEW.is_platform_admin
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER users_access_delete AFTER DELETE ON users
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER sessions_access_update AFTER UPDATE OF revoked_at, expires_at, user_id ON sessions
WHEN OLD.revoked_at IS NOT NEW.revoked_at OR NEW.expires_at < OLD.expires_at OR OLD.user_id IS NOT NEW.user_id
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER sessions_access_delete AFTER DELETE ON sessions
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER roles_access_update AFTER UPDATE ON roles
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER roles_access_delete AFTER DELETE ON roles
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER role_permissions_access_insert AFTER INSERT ON role_permissions
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM roles WHERE id = NEW.role_id);
END;

CREATE TRIGGER role_permissions_access_update AFTER UPDATE ON role_permissions
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM roles WHERE id = OLD.role_id);
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM roles WHERE id = NEW.role_id);
END;

CREATE TRIGGER role_permissions_access_delete AFTER DELETE ON role_permissions
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM roles WHERE id = OLD.role_id);
END;

CREATE TRIGGER user_roles_access_insert AFTER INSERT ON user_roles
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM users WHERE id = NEW.user_id);
END;

CREATE TRIGGER user_roles_access_update AFTER UPDATE ON user_roles
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM users WHERE id = OLD.user_id);
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM users WHERE id = NEW.user_id);
END;

CREATE TRIGGER user_roles_access_delete AFTER DELETE ON user_roles
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM users WHERE id = OLD.user_id);
END;

CREATE TRIGGER groups_access_delete AFTER DELETE ON groups
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER group_members_access_insert AFTER INSERT ON group_members
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = NEW.group_id);
END;

CREATE TRIGGER group_members_access_update AFTER UPDATE ON group_members
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = OLD.group_id);
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = NEW.group_id);
END;

CREATE TRIGGER group_members_access_delete AFTER DELETE ON group_members
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = OLD.group_id);
END;

CREATE TRIGGER group_client_members_access_insert AFTER INSERT ON group_client_members
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = NEW.group_id);
END;

CREATE TRIGGER group_client_members_access_update AFTER UPDATE ON group_client_members
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = OLD.group_id);
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = NEW.group_id);
END;

CREATE TRIGGER group_client_members_access_delete AFTER DELETE ON group_client_members
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM groups WHERE id = OLD.group_id);
END;

CREATE TRIGGER policies_access_insert AFTER INSERT ON policies
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER policies_access_update AFTER UPDATE ON policies
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER policies_access_delete AFTER DELETE ON policies
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER oauth_clients_access_update AFTER UPDATE ON oauth_clients
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER oauth_clients_access_delete AFTER DELETE ON oauth_clients
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER oauth_grants_access_update AFTER UPDATE OF revoked_at, expires_at ON oauth_grants
WHEN OLD.revoked_at IS NOT NEW.revoked_at OR NEW.expires_at < OLD.expires_at
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM oauth_clients WHERE id = OLD.client_id);
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM oauth_clients WHERE id = NEW.client_id);
END;

CREATE TRIGGER oauth_grants_access_delete AFTER DELETE ON oauth_grants
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = (SELECT tenant_id FROM oauth_clients WHERE id = OLD.client_id);
END;

CREATE TRIGGER scim_tokens_access_update AFTER UPDATE OF token_hash, minted_by, tenant_id ON scim_tokens
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
    UPDATE tenants SET access_version = access_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER scim_tokens_access_delete AFTER DELETE ON scim_tokens
BEGIN
    UPDATE tenants SET access_version = access_version + 1 WHERE id = OLD.tenant_id;
END;
