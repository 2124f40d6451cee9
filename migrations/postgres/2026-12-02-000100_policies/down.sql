DROP TABLE iam_actions;
DROP TABLE group_client_members;
DROP TABLE policies;
