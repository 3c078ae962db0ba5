-- The audit log: every administrative change (users and roles, integration clients, locations,
-- questionnaires, organization and programme settings, webhooks, waves, erasures), written in
-- the transaction of the change and kept as long as the reports (events are pruned). `id` is
-- a UUID v7 (time-ordered). The actor is a user, an integration client, or `system` (a
-- command run on the server, with an empty id); `before` and `after` are JSON documents of
-- the changed resource as the API shows it (never a secret).
CREATE TABLE audit_entries (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'client', 'system')),
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX audit_entries_actor_idx ON audit_entries (org_id, actor_id, id);
CREATE INDEX audit_entries_action_idx ON audit_entries (org_id, action, id);
CREATE INDEX audit_entries_target_idx ON audit_entries (org_id, target_id, id);
