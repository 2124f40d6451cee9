-- Nothing to do on PostgreSQL: users was altered in place there
-- (users_without_email), so its access-version triggers stayed. The SQLite
-- migration of the same name recreates the ones its table rebuild dropped.
SELECT 1;
