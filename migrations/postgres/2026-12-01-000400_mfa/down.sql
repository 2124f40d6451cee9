DROP TABLE mfa_challenges;
DROP TABLE mfa_backup_codes;
DROP TABLE user_mfa;
DROP TABLE sealing_keys;
