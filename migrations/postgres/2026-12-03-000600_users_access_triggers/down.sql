-- The triggers belong to access_version, whose down.sql drops them.
SELECT 1;
