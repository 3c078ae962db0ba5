-- Fails when an email exists in two organizations: remove one of them first.
ALTER TABLE users DROP COLUMN sessions_valid_after;
ALTER TABLE user_emails
    DROP CONSTRAINT user_emails_pkey,
    ADD CONSTRAINT user_emails_pkey PRIMARY KEY (email);
