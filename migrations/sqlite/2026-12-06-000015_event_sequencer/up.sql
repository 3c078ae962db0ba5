-- Events are numbered after they commit, by one sequencer, instead of by a counter row per
-- organization that every writing transaction updated (see the PostgreSQL migration). A
-- transaction that records an event writes it here; the sequencer moves committed rows to
-- `events` in batches with the organization's next numbers. `pos` (the order written) is
-- given by the writer, which holds SQLite's write lock.
CREATE TABLE pending_events (
    pos INTEGER NOT NULL,
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
