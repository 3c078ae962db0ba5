DROP TABLE user_emails;

ALTER TABLE report_transitions DROP CONSTRAINT report_transitions_org_id_fkey;
ALTER TABLE report_revisions DROP CONSTRAINT report_revisions_org_id_fkey;
ALTER TABLE reports
    DROP CONSTRAINT reports_location_fkey,
    DROP CONSTRAINT reports_questionnaire_fkey,
    DROP CONSTRAINT reports_shopper_fkey;
ALTER TABLE questionnaires DROP CONSTRAINT questionnaires_created_by_fkey;
ALTER TABLE manager_locations
    DROP CONSTRAINT manager_locations_user_fkey,
    DROP CONSTRAINT manager_locations_location_fkey;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_user_fkey;
ALTER TABLE integration_clients DROP CONSTRAINT integration_clients_created_by_fkey;

ALTER TABLE report_transitions
    DROP CONSTRAINT report_transitions_pkey,
    ADD CONSTRAINT report_transitions_pkey PRIMARY KEY (id);

ALTER TABLE questionnaires
    DROP CONSTRAINT questionnaires_pkey,
    ADD CONSTRAINT questionnaires_pkey PRIMARY KEY (id);
CREATE INDEX questionnaires_org_idx ON questionnaires (org_id, id);

DROP INDEX manager_locations_location_idx;
ALTER TABLE manager_locations
    DROP CONSTRAINT manager_locations_pkey,
    ADD CONSTRAINT manager_locations_pkey PRIMARY KEY (user_id, location_id);
CREATE INDEX manager_locations_location_idx ON manager_locations (location_id);

ALTER TABLE locations
    DROP CONSTRAINT locations_pkey,
    ADD CONSTRAINT locations_pkey PRIMARY KEY (id);
CREATE INDEX locations_org_idx ON locations (org_id, id);

DROP INDEX refresh_tokens_user_idx;
DROP INDEX refresh_tokens_family_idx;
DROP INDEX refresh_tokens_token_hash_idx;
ALTER TABLE refresh_tokens
    DROP CONSTRAINT refresh_tokens_pkey,
    DROP CONSTRAINT refresh_tokens_org_token_hash_key,
    ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    ADD CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

DROP INDEX integration_clients_id_idx;
ALTER TABLE integration_clients
    DROP CONSTRAINT integration_clients_pkey,
    ADD CONSTRAINT integration_clients_pkey PRIMARY KEY (id);
CREATE INDEX integration_clients_org_id_idx ON integration_clients (org_id, id);

ALTER TABLE users
    DROP CONSTRAINT users_pkey,
    DROP CONSTRAINT users_org_email_key,
    ADD CONSTRAINT users_pkey PRIMARY KEY (id),
    ADD CONSTRAINT users_email_key UNIQUE (email);
CREATE INDEX users_org_id_idx ON users (org_id, id);

ALTER TABLE integration_clients
    ADD CONSTRAINT integration_clients_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id);
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE manager_locations
    ADD CONSTRAINT manager_locations_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    ADD CONSTRAINT manager_locations_location_id_fkey FOREIGN KEY (location_id) REFERENCES locations (id);
ALTER TABLE questionnaires
    ADD CONSTRAINT questionnaires_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id);
ALTER TABLE reports
    ADD CONSTRAINT reports_location_id_fkey FOREIGN KEY (location_id) REFERENCES locations (id),
    ADD CONSTRAINT reports_questionnaire_id_fkey FOREIGN KEY (questionnaire_id) REFERENCES questionnaires (id),
    ADD CONSTRAINT reports_shopper_id_fkey FOREIGN KEY (shopper_id) REFERENCES users (id);
