ALTER TABLE scim_tokens DROP COLUMN minted_by;
ALTER TABLE sso_providers DROP COLUMN configured_by;
