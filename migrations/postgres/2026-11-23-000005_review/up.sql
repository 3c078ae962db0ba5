-- Every revision of a report as submitted (revision 1 is the first submission; a shopper's
-- correction of a returned report adds the next). The reports row holds the current one.
CREATE TABLE report_revisions (
    org_id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    body_hash TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, report_id, revision),
    FOREIGN KEY (org_id, report_id) REFERENCES reports (org_id, id)
);

-- The audit trail: every status change of a report, with who made it and why.
CREATE TABLE report_transitions (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    org_id TEXT NOT NULL,
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
    FOREIGN KEY (org_id, report_id) REFERENCES reports (org_id, id)
);
CREATE INDEX report_transitions_report_idx ON report_transitions (org_id, report_id, created_at);
