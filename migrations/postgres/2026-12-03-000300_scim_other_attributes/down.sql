ALTER TABLE user_attributes DROP COLUMN other_attributes;
