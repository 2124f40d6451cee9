DROP INDEX groups_tenant_updated;
DROP INDEX groups_tenant_created;
