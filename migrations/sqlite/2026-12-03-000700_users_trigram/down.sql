DROP TRIGGER users_trigram_update;
DROP TRIGGER users_trigram_delete;
DROP TRIGGER users_trigram_insert;
DROP TABLE users_trigram;
