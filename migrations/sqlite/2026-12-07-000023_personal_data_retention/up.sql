-- Retention of personal text: an organization may have narratives, staff observed and
-- photos of staff deleted from reports whose visit is older than a number of days (0: kept).
ALTER TABLE organization_settings ADD COLUMN personal_data_retention_days INTEGER NOT NULL DEFAULT 0;
-- When that text was removed from a report (NULL: it is as written). A revision writes new
-- text and sets it back to NULL.
ALTER TABLE reports ADD COLUMN text_pruned_at TIMESTAMP;
-- The reports a retention pass has yet to look at, oldest visit first.
CREATE INDEX reports_unpruned_idx ON reports (org_id, visit_started_at) WHERE text_pruned_at IS NULL;
