ALTER TABLE refresh_tokens DROP COLUMN scope;
ALTER TABLE refresh_tokens DROP COLUMN client_id;
DROP TABLE browser_sessions;
DROP TABLE authorization_codes;
DROP TABLE authorization_requests;
