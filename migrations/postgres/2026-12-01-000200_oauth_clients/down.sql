DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_grants;
DROP TABLE oauth_client_secrets;
DROP TABLE oauth_clients;
