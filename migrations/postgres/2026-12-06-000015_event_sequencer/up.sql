-- Events are numbered after they commit, by one sequencer, instead of by a counter row per
-- organization that every writing transaction locked until it committed (which serialised
-- all of an organization's writes). A transaction that records an event writes it here; the
-- sequencer moves committed rows to `events` in batches, giving each the organization's next
-- number (`event_sequences.last_seq`, now written by the sequencer only), so the feed's
-- numbers still follow the order in which events became visible, with no gap.
CREATE TABLE pending_events (
    pos BIGSERIAL NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    id TEXT NOT NULL CHECK (length(id) = 36),
    event_type TEXT NOT NULL CHECK (length(event_type) BETWEEN 1 AND 64),
    subject_type TEXT NOT NULL CHECK (length(subject_type) BETWEEN 1 AND 32),
    subject_id TEXT NOT NULL CHECK (length(subject_id) = 36),
    occurred_at TIMESTAMP NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (org_id, pos)
);
CREATE INDEX pending_events_pos_idx ON pending_events (pos);
