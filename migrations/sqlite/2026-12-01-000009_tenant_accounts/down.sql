-- Fails when an email exists in two organizations: remove one of them first.
ALTER TABLE users DROP COLUMN sessions_valid_after;
CREATE TABLE user_emails_old (
    email TEXT PRIMARY KEY CHECK (length(email) BETWEEN 3 AND 254),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL CHECK (length(user_id) = 36)
);
INSERT INTO user_emails_old (email, org_id, user_id) SELECT email, org_id, user_id FROM user_emails;
DROP TABLE user_emails;
ALTER TABLE user_emails_old RENAME TO user_emails;
