-- Plausibility of a visit (0 to 100, see reports::plausibility; NULL: stored before it was
-- assessed), with its reasons in the report's document. The review queue sorts by it.
ALTER TABLE reports ADD COLUMN plausibility INTEGER;
-- When the visit ended (NULL before this column): the durations and the travel checks read it.
ALTER TABLE reports ADD COLUMN visit_ended_at TIMESTAMP;
-- The MinHash signature of the narrative (NULL: too short, pruned, or stored before).
ALTER TABLE reports ADD COLUMN narrative_signature TEXT;
CREATE INDEX reports_duration_idx ON reports (org_id, questionnaire_key, visit_started_at);
CREATE INDEX reports_shopper_visit_idx ON reports (org_id, shopper_id, visit_started_at);
CREATE INDEX reports_plausibility_idx ON reports (org_id, plausibility, created_at, id);
-- The bands of each narrative signature: two narratives sharing a band are compared.
CREATE TABLE narrative_bands (
    org_id TEXT NOT NULL,
    band TEXT NOT NULL,
    report_id TEXT NOT NULL,
    visit_started_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, band, report_id)
);
CREATE INDEX narrative_bands_report_idx ON narrative_bands (org_id, report_id);
-- What a photo's EXIF said, as kept: minutes outside the visit and metres from the location,
-- never the capture time or coordinates (NULL: not in the file).
ALTER TABLE attachments ADD COLUMN capture_minutes_off INTEGER;
ALTER TABLE attachments ADD COLUMN capture_metres_off INTEGER;
