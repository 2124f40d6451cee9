DROP TRIGGER groups_list_totals_delete ON groups;
DROP TRIGGER groups_list_totals_insert ON groups;
DROP TRIGGER users_list_totals_delete ON users;
DROP TRIGGER users_list_totals_insert ON users;
DROP TRIGGER tenants_list_totals ON tenants;
DROP FUNCTION list_totals_remove();
DROP FUNCTION list_totals_add();
DROP FUNCTION list_totals_tenant();
DROP TABLE list_totals;
