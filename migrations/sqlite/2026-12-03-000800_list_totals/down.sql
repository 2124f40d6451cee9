DROP TRIGGER groups_list_totals_delete;
DROP TRIGGER groups_list_totals_insert;
DROP TRIGGER users_list_totals_delete;
DROP TRIGGER users_list_totals_insert;
DROP TRIGGER tenants_list_totals;
DROP TABLE list_totals;
