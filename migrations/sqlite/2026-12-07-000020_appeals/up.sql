-- Appeals: a manager disputes answers of a released report of their location within the
-- organization's appeal window; a reviewer upholds the report or amends the answers (see
-- `improvement::appeal`).
ALTER TABLE organization_settings ADD COLUMN appeal_window_days INTEGER NOT NULL DEFAULT 14;

CREATE TABLE appeals (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    appellant_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'amended')),
    -- The disputed question keys, a JSON array.
    questions TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The report's revision when it was appealed, and the revision an amendment made.
    revision INTEGER NOT NULL,
    amended_revision INTEGER,
    opened_at TIMESTAMP NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    decision_note TEXT,
    PRIMARY KEY (org_id, id)
);
-- One open appeal per report: the database holds it.
CREATE UNIQUE INDEX appeals_one_open_idx ON appeals (org_id, report_id) WHERE status = 'open';
CREATE INDEX appeals_report_idx ON appeals (org_id, report_id, id);
CREATE INDEX appeals_status_idx ON appeals (org_id, status, id);
