DROP TABLE appeals;
ALTER TABLE organization_settings DROP COLUMN appeal_window_days;
