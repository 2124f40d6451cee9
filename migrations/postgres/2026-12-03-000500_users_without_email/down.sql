-- Users without an email get their userName as email, as before this
-- migration a SCIM userName that was an address became the email.
UPDATE users SET email = user_name, email_key = user_name_key WHERE email IS NULL;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ALTER COLUMN email_key SET NOT NULL;
