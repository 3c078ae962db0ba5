-- The composite keys stay: they admit every row the single-column keys did, and the older
-- code reads and writes them unchanged. The email lookup goes, and email uniqueness across
-- the deployment returns to the users table.
DROP TABLE user_emails;
CREATE UNIQUE INDEX users_email_key ON users (email);
