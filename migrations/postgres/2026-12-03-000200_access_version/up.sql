-- The access version of a tenant: a counter that every change to what its
-- callers may do moves, in the transaction of the change (docs/design/authorization.md,
-- "Caching callers"). Each instance keeps resolved callers in memory and
-- reads this one column (a primary-key lookup) per request: a cached caller
-- is used only while the version it was resolved at is still the tenant's.
-- Triggers move it, so no write path can forget to: users' status, email
-- and platform role; sessions ended or shortened; roles and their
-- permissions; role assignments; groups and memberships; policies; OAuth
-- clients and grants; SCIM tokens; the tenant's status.

ALTER TABLE tenants ADD COLUMN access_version bigint NOT NULL DEFAULT 0;

-- The triggers are deferred to the commit, so the tenant's row is the last
-- lock a transaction takes (no lock-order inversion with the rows it
-- changed, hence no deadlock), and once per transaction and tenant is
-- enough: the version only has to differ after the commit. A bulk change
-- (10,000 memberships) updates the tenant's row once, not once per row.
CREATE FUNCTION bump_access_version(tenant uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    mark text := txid_current()::text || ':' || tenant::text;
BEGIN
    IF tenant IS NULL OR current_setting('ithbat.access_bumped', true) = mark THEN
        RETURN;
    END IF;
    UPDATE tenants SET access_version = access_version + 1 WHERE id = tenant;
    PERFORM set_config('ithbat.access_bumped', mark, true);
END
$$;

CREATE FUNCTION access_changed_tenants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER tenants_access_update AFTER UPDATE OF status ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION access_changed_tenants();

CREATE FUNCTION access_changed_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER users_access_update AFTER UPDATE OF status, email, is_platform_admin ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.email IS DISTINCT FROM NEW.email OR OLD.is_platform_admin IS DISTINCT FROM NEW.is_platform_admin)
    EXECUTE FUNCTION access_changed_users();

CREATE CONSTRAINT TRIGGER users_access_delete AFTER DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_users();

CREATE FUNCTION access_changed_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER sessions_access_update AFTER UPDATE OF revoked_at, expires_at, user_id ON sessions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR NEW.expires_at < OLD.expires_at OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION access_changed_sessions();

CREATE CONSTRAINT TRIGGER sessions_access_delete AFTER DELETE ON sessions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_sessions();

CREATE FUNCTION access_changed_roles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER roles_access_update AFTER UPDATE ON roles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_roles();

CREATE CONSTRAINT TRIGGER roles_access_delete AFTER DELETE ON roles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_roles();

CREATE FUNCTION access_changed_role_permissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM roles WHERE id = OLD.role_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM roles WHERE id = NEW.role_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER role_permissions_access_write AFTER INSERT OR UPDATE OR DELETE ON role_permissions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_role_permissions();

CREATE FUNCTION access_changed_user_roles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM users WHERE id = OLD.user_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM users WHERE id = NEW.user_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER user_roles_access_write AFTER INSERT OR UPDATE OR DELETE ON user_roles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_user_roles();

CREATE FUNCTION access_changed_groups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER groups_access_delete AFTER DELETE ON groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_groups();

CREATE FUNCTION access_changed_group_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM groups WHERE id = OLD.group_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM groups WHERE id = NEW.group_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER group_members_access_write AFTER INSERT OR UPDATE OR DELETE ON group_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_group_members();

CREATE FUNCTION access_changed_group_client_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM groups WHERE id = OLD.group_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM groups WHERE id = NEW.group_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER group_client_members_access_write AFTER INSERT OR UPDATE OR DELETE ON group_client_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_group_client_members();

CREATE FUNCTION access_changed_policies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER policies_access_write AFTER INSERT OR UPDATE OR DELETE ON policies
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_policies();

CREATE FUNCTION access_changed_oauth_clients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER oauth_clients_access_update AFTER UPDATE ON oauth_clients
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_oauth_clients();

CREATE CONSTRAINT TRIGGER oauth_clients_access_delete AFTER DELETE ON oauth_clients
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_oauth_clients();

CREATE FUNCTION access_changed_oauth_grants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM oauth_clients WHERE id = OLD.client_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version((SELECT tenant_id FROM oauth_clients WHERE id = NEW.client_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER oauth_grants_access_update AFTER UPDATE OF revoked_at, expires_at ON oauth_grants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR NEW.expires_at < OLD.expires_at)
    EXECUTE FUNCTION access_changed_oauth_grants();

CREATE CONSTRAINT TRIGGER oauth_grants_access_delete AFTER DELETE ON oauth_grants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_oauth_grants();

CREATE FUNCTION access_changed_scim_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_access_version(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_access_version(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER scim_tokens_access_update AFTER UPDATE OF token_hash, minted_by, tenant_id ON scim_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_scim_tokens();

CREATE CONSTRAINT TRIGGER scim_tokens_access_delete AFTER DELETE ON scim_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION access_changed_scim_tokens();
