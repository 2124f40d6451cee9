-- Each tenant's number of users and groups, kept exact in the transaction
-- that writes them, so that an unfiltered list's total is one row read
-- instead of a count over the tenant (ARCHITECTURE.md, "Lists at scale").
CREATE TABLE list_totals (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    users INTEGER NOT NULL DEFAULT 0,
    groups INTEGER NOT NULL DEFAULT 0
);

INSERT INTO list_totals (tenant_id, users, groups)
SELECT t.id,
       (SELECT count(*) FROM users u WHERE u.tenant_id = t.id),
       (SELECT count(*) FROM groups g WHERE g.tenant_id = t.id)
FROM tenants t;

CREATE TRIGGER tenants_list_totals AFTER INSERT ON tenants
BEGIN
    INSERT INTO list_totals (tenant_id) VALUES (new.id);
END;

CREATE TRIGGER users_list_totals_insert AFTER INSERT ON users
BEGIN
    UPDATE list_totals SET users = users + 1 WHERE tenant_id = new.tenant_id;
END;

CREATE TRIGGER users_list_totals_delete AFTER DELETE ON users
BEGIN
    UPDATE list_totals SET users = users - 1 WHERE tenant_id = old.tenant_id;
END;

CREATE TRIGGER groups_list_totals_insert AFTER INSERT ON groups
BEGIN
    UPDATE list_totals SET groups = groups + 1 WHERE tenant_id = new.tenant_id;
END;

CREATE TRIGGER groups_list_totals_delete AFTER DELETE ON groups
BEGIN
    UPDATE list_totals SET groups = groups - 1 WHERE tenant_id = old.tenant_id;
END;
