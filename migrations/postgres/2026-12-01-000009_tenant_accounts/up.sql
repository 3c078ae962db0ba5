-- Accounts belong to their organization: the same email may exist in several organizations
-- (unique per organization only), so no tenant can learn or block another's addresses. The
-- sign-in lookup keeps one row per (email, organization).
ALTER TABLE user_emails
    DROP CONSTRAINT user_emails_pkey,
    ADD CONSTRAINT user_emails_pkey PRIMARY KEY (email, org_id);

-- Access tokens issued before this instant (a password change, a role change or a
-- deactivation) are refused. NULL: every unexpired token of the user is valid.
ALTER TABLE users ADD COLUMN sessions_valid_after TIMESTAMP;
