-- IAM policies, clients as group members, and the actions tenants
-- register (docs/api/iam.md). Kept in step with
-- migrations/postgres.

-- One action granted to one subject on one scope. The subject is a user,
-- a client or a group of the tenant: exactly one of the three ids is set,
-- so that a subject's policies go with it.
CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- 'user-<uuid>', 'client-<uuid>' or 'group-<uuid>'.
    subject TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT REFERENCES oauth_clients (id) ON DELETE CASCADE,
    group_id TEXT REFERENCES groups (id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX policies_tenant_triple ON policies (tenant_id, subject, action, scope);
CREATE INDEX policies_user ON policies (user_id);
CREATE INDEX policies_client ON policies (client_id);
CREATE INDEX policies_group ON policies (group_id);

-- Groups hold clients too (group_members holds their users).
CREATE TABLE group_client_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_id, client_id)
);
CREATE INDEX group_client_members_client ON group_client_members (client_id);

-- Actions a tenant adds to the catalogue beside the built-in iam ones.
CREATE TABLE iam_actions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
