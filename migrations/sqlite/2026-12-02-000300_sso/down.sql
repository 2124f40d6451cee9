DROP TABLE sso_logins;
DROP TABLE user_identities;
DROP TABLE sso_providers;
