-- People who sign in. Email is unique across the deployment (stored lower-case).
CREATE TABLE users (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'analyst', 'manager', 'shopper')),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_org_id_idx ON users (org_id, id);

-- Service accounts; the secret is stored only as a SHA-256 hash of a 256-bit random value.
CREATE TABLE integration_clients (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX integration_clients_org_id_idx ON integration_clients (org_id, id);

-- Opaque refresh tokens, stored as SHA-256 hashes. A family is one sign-in; each rotation
-- consumes a token (used_at) and adds the next one to the family.
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    token_hash TEXT NOT NULL UNIQUE,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
