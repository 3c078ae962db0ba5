-- The distinct shoppers behind a location's figures, read from the released reports of a
-- range: every column the grouped read needs is in the index.
CREATE INDEX reports_raters_idx
    ON reports (org_id, status, visit_local_date, location_id, questionnaire_key, shopper_id);

-- Every change of what a location's figures count, written by the transaction that changed
-- the rollups, with the event that transaction recorded: a report released, withdrawn
-- (reopened) or amended after an appeal, with its score and mile level before and after.
-- GET /api/v1/locations/{id}/figure-changes lists them after an event cursor.
CREATE TABLE figure_moves (
    org_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    questionnaire_key TEXT NOT NULL,
    visit_local_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    counted_before BOOLEAN NOT NULL,
    score_before DOUBLE PRECISION,
    mile_before TEXT,
    counted_after BOOLEAN NOT NULL,
    score_after DOUBLE PRECISION,
    mile_after TEXT,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, event_id)
);
CREATE INDEX figure_moves_location_idx ON figure_moves (org_id, location_id, at);
