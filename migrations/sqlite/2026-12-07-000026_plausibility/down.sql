ALTER TABLE attachments DROP COLUMN capture_metres_off;
ALTER TABLE attachments DROP COLUMN capture_minutes_off;
DROP TABLE narrative_bands;
DROP INDEX reports_plausibility_idx;
DROP INDEX reports_shopper_visit_idx;
DROP INDEX reports_duration_idx;
ALTER TABLE reports DROP COLUMN narrative_signature;
ALTER TABLE reports DROP COLUMN visit_ended_at;
ALTER TABLE reports DROP COLUMN plausibility;
