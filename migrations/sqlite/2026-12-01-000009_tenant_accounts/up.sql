-- Accounts belong to their organization: the same email may exist in several organizations
-- (unique per organization only), so no tenant can learn or block another's addresses. The
-- sign-in lookup keeps one row per (email, organization).
CREATE TABLE user_emails_new (
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL CHECK (length(user_id) = 36),
    PRIMARY KEY (email, org_id)
);
INSERT INTO user_emails_new (email, org_id, user_id) SELECT email, org_id, user_id FROM user_emails;
DROP TABLE user_emails;
ALTER TABLE user_emails_new RENAME TO user_emails;

-- Access tokens issued before this instant (a password change, a role change or a
-- deactivation) are refused. NULL: every unexpired token of the user is valid.
ALTER TABLE users ADD COLUMN sessions_valid_after TIMESTAMP;
