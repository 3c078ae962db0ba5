DROP INDEX reports_unpruned_idx;
ALTER TABLE reports DROP COLUMN text_pruned_at;
ALTER TABLE organization_settings DROP COLUMN personal_data_retention_days;
