-- Substring search on users' folded keys (JSON:API `__match`, SCIM `co`,
-- the native list's `search`) through an index: an FTS5 table with the
-- trigram tokenizer, case-sensitive because the keys and the searched value
-- are folded alike (src/repo/filter/trigram.rs). PostgreSQL has pg_trgm GIN
-- indexes on the same keys instead.
--
-- It keeps its own copy of the keys and the user's id, with the user's
-- rowid as its own: the triggers below find a user's entry by rowid, and a
-- search answers rowids of users. Should the users' rowids move (a table
-- rebuild, a VACUUM), the server finds out at start by comparing ids and
-- fills the table again (src/db/mod.rs, `check_users_trigram`).
CREATE VIRTUAL TABLE users_trigram USING fts5 (
    id UNINDEXED, search_key, name_key, email_key, user_name_key,
    tokenize = 'trigram case_sensitive 1'
);

INSERT INTO users_trigram (rowid, id, search_key, name_key, email_key, user_name_key)
    SELECT rowid, id, search_key, name_key, email_key, user_name_key FROM users;

CREATE TRIGGER users_trigram_insert AFTER INSERT ON users
BEGIN
    INSERT INTO users_trigram (rowid, id, search_key, name_key, email_key, user_name_key)
        VALUES (new.rowid, new.id, new.search_key, new.name_key, new.email_key, new.user_name_key);
END;

CREATE TRIGGER users_trigram_delete AFTER DELETE ON users
BEGIN
    DELETE FROM users_trigram WHERE rowid = old.rowid;
END;

CREATE TRIGGER users_trigram_update AFTER UPDATE OF search_key, name_key, email_key, user_name_key ON users
BEGIN
    DELETE FROM users_trigram WHERE rowid = old.rowid;
    INSERT INTO users_trigram (rowid, id, search_key, name_key, email_key, user_name_key)
        VALUES (new.rowid, new.id, new.search_key, new.name_key, new.email_key, new.user_name_key);
END;
