-- Keys ready for a distributed PostgreSQL (Citus, distributed by org_id): every tenant
-- table's primary key and unique constraints include org_id, and every foreign key between
-- tenant tables is composite with org_id, so related rows always live on the same node.
-- organizations, settings and user_emails are global (Citus reference tables).

-- Foreign keys that point at a key about to change.
ALTER TABLE integration_clients DROP CONSTRAINT integration_clients_created_by_fkey;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_user_id_fkey;
ALTER TABLE manager_locations
    DROP CONSTRAINT manager_locations_user_id_fkey,
    DROP CONSTRAINT manager_locations_location_id_fkey;
ALTER TABLE questionnaires DROP CONSTRAINT questionnaires_created_by_fkey;
ALTER TABLE reports
    DROP CONSTRAINT reports_location_id_fkey,
    DROP CONSTRAINT reports_questionnaire_id_fkey,
    DROP CONSTRAINT reports_shopper_id_fkey;

-- Primary keys and unique constraints with org_id.
ALTER TABLE users
    DROP CONSTRAINT users_pkey,
    DROP CONSTRAINT users_email_key,
    ADD CONSTRAINT users_pkey PRIMARY KEY (org_id, id),
    ADD CONSTRAINT users_org_email_key UNIQUE (org_id, email);
DROP INDEX users_org_id_idx;

ALTER TABLE integration_clients
    DROP CONSTRAINT integration_clients_pkey,
    ADD CONSTRAINT integration_clients_pkey PRIMARY KEY (org_id, id);
DROP INDEX integration_clients_org_id_idx;
-- Client-credentials sign-in finds a client by its id alone.
CREATE INDEX integration_clients_id_idx ON integration_clients (id);

ALTER TABLE refresh_tokens
    DROP CONSTRAINT refresh_tokens_pkey,
    DROP CONSTRAINT refresh_tokens_token_hash_key,
    ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY (org_id, id),
    ADD CONSTRAINT refresh_tokens_org_token_hash_key UNIQUE (org_id, token_hash);
-- A refresh grant finds its token by hash alone (256 random bits: no collisions).
CREATE INDEX refresh_tokens_token_hash_idx ON refresh_tokens (token_hash);
DROP INDEX refresh_tokens_family_idx;
DROP INDEX refresh_tokens_user_idx;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (org_id, family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (org_id, user_id);

ALTER TABLE locations
    DROP CONSTRAINT locations_pkey,
    ADD CONSTRAINT locations_pkey PRIMARY KEY (org_id, id);
DROP INDEX locations_org_idx;

ALTER TABLE manager_locations
    DROP CONSTRAINT manager_locations_pkey,
    ADD CONSTRAINT manager_locations_pkey PRIMARY KEY (org_id, user_id, location_id);
DROP INDEX manager_locations_location_idx;
CREATE INDEX manager_locations_location_idx ON manager_locations (org_id, location_id);

ALTER TABLE questionnaires
    DROP CONSTRAINT questionnaires_pkey,
    ADD CONSTRAINT questionnaires_pkey PRIMARY KEY (org_id, id);
DROP INDEX questionnaires_org_idx;

ALTER TABLE report_transitions
    DROP CONSTRAINT report_transitions_pkey,
    ADD CONSTRAINT report_transitions_pkey PRIMARY KEY (org_id, id);

-- Composite foreign keys between tenant tables.
ALTER TABLE integration_clients
    ADD CONSTRAINT integration_clients_created_by_fkey
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id);
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_user_fkey
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id);
ALTER TABLE manager_locations
    ADD CONSTRAINT manager_locations_user_fkey
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    ADD CONSTRAINT manager_locations_location_fkey
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id);
ALTER TABLE questionnaires
    ADD CONSTRAINT questionnaires_created_by_fkey
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id);
ALTER TABLE reports
    ADD CONSTRAINT reports_location_fkey
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id),
    ADD CONSTRAINT reports_questionnaire_fkey
    FOREIGN KEY (org_id, questionnaire_id) REFERENCES questionnaires (org_id, id),
    ADD CONSTRAINT reports_shopper_fkey
    FOREIGN KEY (org_id, shopper_id) REFERENCES users (org_id, id);
ALTER TABLE report_revisions
    ADD CONSTRAINT report_revisions_org_id_fkey
    FOREIGN KEY (org_id) REFERENCES organizations (id);
ALTER TABLE report_transitions
    ADD CONSTRAINT report_transitions_org_id_fkey
    FOREIGN KEY (org_id) REFERENCES organizations (id);

-- Sign-in by email across the deployment: a global lookup (a reference table), since a
-- distributed table cannot hold a unique constraint without org_id. Kept in step with
-- users.email in the same transaction by the application.
CREATE TABLE user_emails (
    email TEXT PRIMARY KEY CHECK (length(email) BETWEEN 3 AND 254),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL CHECK (length(user_id) = 36)
);
INSERT INTO user_emails (email, org_id, user_id) SELECT email, org_id, id FROM users;
