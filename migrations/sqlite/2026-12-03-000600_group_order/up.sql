-- Groups list in creation order by default, and SCIM cursors (RFC 9865)
-- page in that order from an anchor: both read this index, the key last
-- so that equal times still page in one order (ARCHITECTURE.md, "Lists at
-- scale").
CREATE INDEX groups_tenant_created ON groups (tenant_id, created_at, id);
CREATE INDEX groups_tenant_updated ON groups (tenant_id, updated_at, id);
