-- Each tenant's number of users and groups, kept exact in the transaction
-- that writes them, so that an unfiltered list's total is one row read
-- instead of a count over the tenant (ARCHITECTURE.md, "Lists at scale").
-- Statement-level triggers add a whole bulk insert or delete at once.
CREATE TABLE list_totals (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    users bigint NOT NULL DEFAULT 0,
    groups bigint NOT NULL DEFAULT 0
);

INSERT INTO list_totals (tenant_id, users, groups)
SELECT t.id,
       (SELECT count(*) FROM users u WHERE u.tenant_id = t.id),
       (SELECT count(*) FROM groups g WHERE g.tenant_id = t.id)
FROM tenants t;

CREATE FUNCTION list_totals_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO list_totals (tenant_id) SELECT id FROM inserted;
    RETURN NULL;
END $$;

CREATE TRIGGER tenants_list_totals AFTER INSERT ON tenants
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION list_totals_tenant();

-- TG_ARGV[0]: the column of list_totals; TG_OP says which way it moves.
CREATE FUNCTION list_totals_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'UPDATE list_totals l SET %1$I = l.%1$I + n.n FROM (SELECT tenant_id, count(*) AS n FROM inserted GROUP BY tenant_id) n WHERE l.tenant_id = n.tenant_id',
        TG_ARGV[0]);
    RETURN NULL;
END $$;

CREATE FUNCTION list_totals_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'UPDATE list_totals l SET %1$I = l.%1$I - n.n FROM (SELECT tenant_id, count(*) AS n FROM deleted GROUP BY tenant_id) n WHERE l.tenant_id = n.tenant_id',
        TG_ARGV[0]);
    RETURN NULL;
END $$;

CREATE TRIGGER users_list_totals_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION list_totals_add('users');
CREATE TRIGGER users_list_totals_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION list_totals_remove('users');
CREATE TRIGGER groups_list_totals_insert AFTER INSERT ON groups
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION list_totals_add('groups');
CREATE TRIGGER groups_list_totals_delete AFTER DELETE ON groups
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION list_totals_remove('groups');
