-- Keys scoped by organization, as on PostgreSQL (see the postgres migration of the same
-- name): every tenant table's primary key and unique constraints include org_id and every
-- foreign key between tenant tables is composite with org_id. SQLite cannot change a key
-- in place, so each tenant table is rebuilt: the old tables are renamed out of the way
-- (SQLite rewrites the foreign keys that point at them), new ones are created and filled,
-- and the old ones dropped, children first.

DROP INDEX users_org_id_idx;
DROP INDEX integration_clients_org_id_idx;
DROP INDEX refresh_tokens_family_idx;
DROP INDEX refresh_tokens_user_idx;
DROP INDEX locations_org_idx;
DROP INDEX locations_org_region_idx;
DROP INDEX manager_locations_location_idx;
DROP INDEX questionnaires_org_idx;
DROP INDEX reports_created_idx;
DROP INDEX reports_status_idx;
DROP INDEX reports_location_idx;
DROP INDEX reports_shopper_idx;
DROP INDEX reports_updated_idx;
DROP INDEX report_transitions_report_idx;

ALTER TABLE users RENAME TO old_users;
ALTER TABLE integration_clients RENAME TO old_integration_clients;
ALTER TABLE refresh_tokens RENAME TO old_refresh_tokens;
ALTER TABLE locations RENAME TO old_locations;
ALTER TABLE manager_locations RENAME TO old_manager_locations;
ALTER TABLE questionnaires RENAME TO old_questionnaires;
ALTER TABLE reports RENAME TO old_reports;
ALTER TABLE report_revisions RENAME TO old_report_revisions;
ALTER TABLE report_transitions RENAME TO old_report_transitions;

CREATE TABLE users (
    id TEXT NOT NULL CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'analyst', 'manager', 'shopper')),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    CONSTRAINT users_org_email_key UNIQUE (org_id, email)
);
INSERT INTO users SELECT id, org_id, email, display_name, password_hash, role, active, created_at, updated_at FROM old_users;

CREATE TABLE integration_clients (
    id TEXT NOT NULL CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
INSERT INTO integration_clients SELECT id, org_id, name, scopes, secret_hash, active, created_by, created_at, updated_at FROM old_integration_clients;
CREATE INDEX integration_clients_id_idx ON integration_clients (id);

CREATE TABLE refresh_tokens (
    id TEXT NOT NULL CHECK (length(id) = 36),
    token_hash TEXT NOT NULL,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    PRIMARY KEY (org_id, id),
    CONSTRAINT refresh_tokens_org_token_hash_key UNIQUE (org_id, token_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
INSERT INTO refresh_tokens SELECT id, token_hash, family_id, user_id, org_id, created_at, expires_at, used_at, revoked_at FROM old_refresh_tokens;
CREATE INDEX refresh_tokens_token_hash_idx ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (org_id, family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (org_id, user_id);

CREATE TABLE locations (
    id TEXT NOT NULL CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    code TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address_lines TEXT NOT NULL,
    city TEXT,
    postal_code TEXT,
    country TEXT CHECK (country IS NULL OR length(country) = 2),
    region TEXT,
    timezone TEXT NOT NULL,
    latitude DOUBLE PRECISION CHECK (latitude IS NULL OR (latitude >= -90 AND latitude <= 90)),
    longitude DOUBLE PRECISION CHECK (longitude IS NULL OR (longitude >= -180 AND longitude <= 180)),
    tags TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, code)
);
INSERT INTO locations SELECT id, org_id, code, name, address_lines, city, postal_code, country, region, timezone, latitude, longitude, tags, active, created_at, updated_at FROM old_locations;
CREATE INDEX locations_org_region_idx ON locations (org_id, region);

CREATE TABLE manager_locations (
    user_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (org_id, user_id, location_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);
INSERT INTO manager_locations SELECT user_id, location_id, org_id FROM old_manager_locations;
CREATE INDEX manager_locations_location_idx ON manager_locations (org_id, location_id);

CREATE TABLE questionnaires (
    id TEXT NOT NULL CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    version INTEGER NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    retired_at TIMESTAMP,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, key, version),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
INSERT INTO questionnaires SELECT id, org_id, key, version, status, title, content, created_by, created_at, updated_at, published_at, retired_at FROM old_questionnaires;

CREATE TABLE reports (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    id TEXT NOT NULL CHECK (length(id) = 36),
    location_id TEXT NOT NULL,
    questionnaire_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    shopper_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'returned')),
    revision INTEGER NOT NULL CHECK (revision >= 1),
    visit_started_at TIMESTAMP NOT NULL,
    visit_local_date TEXT NOT NULL CHECK (length(visit_local_date) = 10),
    overall_score DOUBLE PRECISION,
    mile_level TEXT NOT NULL CHECK (mile_level IN ('zero', 'first', 'second')),
    body_hash TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id),
    FOREIGN KEY (org_id, questionnaire_id) REFERENCES questionnaires (org_id, id),
    FOREIGN KEY (org_id, shopper_id) REFERENCES users (org_id, id)
);
INSERT INTO reports SELECT org_id, id, location_id, questionnaire_id, questionnaire_key, shopper_id, status, revision, visit_started_at, visit_local_date, overall_score, mile_level, body_hash, document, created_at, updated_at FROM old_reports;
CREATE INDEX reports_created_idx ON reports (org_id, created_at, id);
CREATE INDEX reports_status_idx ON reports (org_id, status, created_at);
CREATE INDEX reports_location_idx ON reports (org_id, location_id, visit_local_date);
CREATE INDEX reports_shopper_idx ON reports (org_id, shopper_id, created_at);
CREATE INDEX reports_updated_idx ON reports (org_id, updated_at);

CREATE TABLE report_revisions (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    report_id TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    body_hash TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, report_id, revision),
    FOREIGN KEY (org_id, report_id) REFERENCES reports (org_id, id)
);
INSERT INTO report_revisions SELECT org_id, report_id, revision, body_hash, document, created_at FROM old_report_revisions;

CREATE TABLE report_transitions (
    id TEXT NOT NULL CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    report_id TEXT NOT NULL,
    from_status TEXT CHECK (from_status IS NULL OR from_status IN ('submitted', 'approved', 'rejected', 'returned')),
    to_status TEXT NOT NULL CHECK (to_status IN ('submitted', 'approved', 'rejected', 'returned')),
    action TEXT NOT NULL CHECK (action IN ('submit', 'approve', 'reject', 'return', 'reopen', 'revise')),
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'client')),
    actor_id TEXT NOT NULL,
    actor_role TEXT,
    note TEXT,
    revision INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, report_id) REFERENCES reports (org_id, id)
);
INSERT INTO report_transitions SELECT id, org_id, report_id, from_status, to_status, action, actor_kind, actor_id, actor_role, note, revision, created_at FROM old_report_transitions;
CREATE INDEX report_transitions_report_idx ON report_transitions (org_id, report_id, created_at);

DROP TABLE old_report_transitions;
DROP TABLE old_report_revisions;
DROP TABLE old_reports;
DROP TABLE old_questionnaires;
DROP TABLE old_manager_locations;
DROP TABLE old_locations;
DROP TABLE old_refresh_tokens;
DROP TABLE old_integration_clients;
DROP TABLE old_users;

CREATE TABLE user_emails (
    email TEXT PRIMARY KEY CHECK (length(email) BETWEEN 3 AND 254),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL CHECK (length(user_id) = 36)
);
INSERT INTO user_emails (email, org_id, user_id) SELECT email, org_id, id FROM users;
