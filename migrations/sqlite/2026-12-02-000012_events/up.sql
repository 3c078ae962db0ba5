-- Events for integrations: the outbox, webhook subscriptions and their deliveries.

-- The last sequence number given to an event of each organization. Taking the next one
-- locks the row until the transaction ends, so an organization's events commit in the
-- order of their numbers and a reader that saw number N has seen every number before it.
CREATE TABLE event_sequences (
    org_id TEXT NOT NULL PRIMARY KEY REFERENCES organizations (id),
    last_seq BIGINT NOT NULL CHECK (last_seq >= 0)
);
INSERT INTO event_sequences (org_id, last_seq) SELECT id, 0 FROM organizations;

-- The outbox: one row per state change, written in the transaction of the change.
CREATE TABLE events (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    seq BIGINT NOT NULL CHECK (seq > 0),
    id TEXT NOT NULL CHECK (length(id) = 36),
    event_type TEXT NOT NULL CHECK (length(event_type) BETWEEN 1 AND 64),
    subject_type TEXT NOT NULL CHECK (length(subject_type) BETWEEN 1 AND 32),
    subject_id TEXT NOT NULL CHECK (length(subject_id) = 36),
    occurred_at TIMESTAMP NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (org_id, seq),
    UNIQUE (org_id, id)
);

-- A webhook subscription. `event_types` is a JSON array (empty: every type). The signing
-- secret is kept as given to the admin (HMAC needs it); during a rotation the previous
-- one signs too until `previous_secret_expires_at`.
CREATE TABLE webhooks (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    id TEXT NOT NULL CHECK (length(id) = 36),
    url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description TEXT NOT NULL CHECK (length(description) <= 500),
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    active BOOLEAN NOT NULL,
    disabled_reason TEXT,
    disabled_at TIMESTAMP,
    failing_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- One event to be delivered to one webhook; `body` is exactly what is sent every time.
CREATE TABLE webhook_deliveries (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL CHECK (length(id) = 36),
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL CHECK (length(event_id) = 36),
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP NOT NULL,
    give_up_at TIMESTAMP,
    occurred_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (org_id, webhook_id, id);

-- Each attempt at a delivery: the receiver's status code or the error, and how long it took.
CREATE TABLE webhook_attempts (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL CHECK (length(id) = 36),
    delivery_id TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    response_status INTEGER,
    latency_ms BIGINT NOT NULL CHECK (latency_ms >= 0),
    error TEXT,
    succeeded BOOLEAN NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, delivery_id) REFERENCES webhook_deliveries (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (org_id, delivery_id, id);
