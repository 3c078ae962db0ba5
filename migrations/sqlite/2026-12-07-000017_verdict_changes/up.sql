-- Each change of a location's verdict, kept as long as the reports (events are pruned after
-- their retention): `GET /aggregates/changes` lists them. `id` is the id of the change's
-- `location.verdict_changed` event; `visit_date` the local date of the visit whose release
-- (or withdrawal) changed it. Filled from the events already recorded.
CREATE TABLE verdict_changes (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    visit_date TEXT NOT NULL,
    previous_verdict TEXT NOT NULL
        CHECK (previous_verdict IN ('zero', 'first', 'second', 'insufficient_data')),
    verdict TEXT NOT NULL CHECK (verdict IN ('zero', 'first', 'second', 'insufficient_data')),
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX verdict_changes_date_idx ON verdict_changes (org_id, visit_date);
CREATE INDEX verdict_changes_location_idx ON verdict_changes (org_id, location_id, visit_date);

INSERT INTO verdict_changes
    SELECT e.org_id, e.id, e.subject_id, r.id, r.visit_local_date,
        json_extract(e.data, '$.previous_verdict'), json_extract(e.data, '$.verdict'),
        e.occurred_at
    FROM (
        SELECT org_id, id, subject_id, data, occurred_at FROM events
            WHERE event_type = 'location.verdict_changed'
        UNION ALL
        SELECT org_id, id, subject_id, data, occurred_at FROM pending_events
            WHERE event_type = 'location.verdict_changed'
    ) e
    JOIN reports r ON r.org_id = e.org_id AND r.id = json_extract(e.data, '$.report_id');
