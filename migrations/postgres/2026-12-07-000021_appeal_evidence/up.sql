-- An appeal's optional evidence (a receipt, a rota): one file per appeal, attached by the
-- manager who appealed while the appeal is open, stored like a report's attachments (type
-- read from its first bytes, JPEG metadata removed) under `orgs/{org}/appeals/{id}/{sha256}`.
-- The sweeper keeps a stored file that a row here names.
ALTER TABLE appeals ADD COLUMN evidence_key TEXT;
ALTER TABLE appeals ADD COLUMN evidence_media_type TEXT;
ALTER TABLE appeals ADD COLUMN evidence_size BIGINT;
-- Hex SHA-256 of the bytes as stored, and as uploaded (what a retry is compared with).
ALTER TABLE appeals ADD COLUMN evidence_sha256 TEXT;
ALTER TABLE appeals ADD COLUMN evidence_uploaded_sha256 TEXT;
ALTER TABLE appeals ADD COLUMN evidence_at TIMESTAMP;
CREATE INDEX appeals_evidence_key_idx ON appeals (evidence_key) WHERE evidence_key IS NOT NULL;
