-- IAM policies, clients as group members, and the actions tenants
-- register (docs/api/iam.md). Kept in step with
-- migrations/sqlite.

-- One action granted to one subject on one scope. The subject is a user,
-- a client or a group of the tenant: exactly one of the three ids is set,
-- so that a subject's policies go with it.
CREATE TABLE policies (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- 'user-<uuid>', 'client-<uuid>' or 'group-<uuid>'.
    subject text COLLATE "C" NOT NULL,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    client_id uuid REFERENCES oauth_clients (id) ON DELETE CASCADE,
    group_id uuid REFERENCES groups (id) ON DELETE CASCADE,
    action text COLLATE "C" NOT NULL,
    scope text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX policies_tenant_triple ON policies (tenant_id, subject, action, scope);
CREATE INDEX policies_user ON policies (user_id);
CREATE INDEX policies_client ON policies (client_id);
CREATE INDEX policies_group ON policies (group_id);

-- Groups hold clients too (group_members holds their users).
CREATE TABLE group_client_members (
    group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    client_id uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, client_id)
);
CREATE INDEX group_client_members_client ON group_client_members (client_id);

-- Actions a tenant adds to the catalogue beside the built-in iam ones.
CREATE TABLE iam_actions (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    description text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
