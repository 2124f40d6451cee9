-- A SCIM token acts with at most what its maker holds at the time of use,
-- so it records its maker as a subject (`user-<uuid>` or `client-<uuid>`).
-- Tokens made by users before this migration keep their maker; a token
-- with no maker holds nothing and is refused.
ALTER TABLE scim_tokens ADD COLUMN minted_by text COLLATE "C";
UPDATE scim_tokens SET minted_by = 'user-' || created_by::text WHERE created_by IS NOT NULL;

-- An SSO provider signs people in, so it is a credential too: it signs in
-- only accounts that whoever last configured it could manage. Providers
-- configured before this migration have no configurer and sign in only
-- accounts that hold nothing, until an administrator saves them again.
ALTER TABLE sso_providers ADD COLUMN configured_by text COLLATE "C";
