DROP INDEX appeals_evidence_key_idx;
ALTER TABLE appeals DROP COLUMN evidence_at;
ALTER TABLE appeals DROP COLUMN evidence_uploaded_sha256;
ALTER TABLE appeals DROP COLUMN evidence_sha256;
ALTER TABLE appeals DROP COLUMN evidence_size;
ALTER TABLE appeals DROP COLUMN evidence_media_type;
ALTER TABLE appeals DROP COLUMN evidence_key;
