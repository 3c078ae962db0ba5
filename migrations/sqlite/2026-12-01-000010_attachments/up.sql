-- Photos and receipts uploaded for reports. The file itself is in the file storage (a
-- directory or an S3 bucket) under `storage_key`; a row is written only once its file is
-- stored. `uploaded_sha256` is the digest of the bytes as sent (what a retry is compared
-- with); `sha256` and `size` describe the bytes as stored (after metadata removal).
-- `question` is the photo question whose answer names the file (NULL for the receipt);
-- `shows_staff` is that question's privacy rule, fixed when the file arrives: such files are
-- personal data, seen only by those who see the staff observed.
CREATE TABLE attachments (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    id TEXT NOT NULL CHECK (length(id) = 36),
    report_id TEXT NOT NULL CHECK (length(report_id) = 36),
    revision INTEGER NOT NULL CHECK (revision >= 1),
    media_type TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/heic', 'image/webp', 'application/pdf')),
    size BIGINT NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    uploaded_sha256 TEXT NOT NULL CHECK (length(uploaded_sha256) = 64),
    storage_key TEXT NOT NULL CHECK (length(storage_key) BETWEEN 1 AND 500),
    question TEXT CHECK (question IS NULL OR length(question) BETWEEN 1 AND 64),
    shows_staff BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, report_id) REFERENCES reports (org_id, id)
);
CREATE INDEX attachments_report_idx ON attachments (org_id, report_id);
-- The sweeper asks which stored objects have a row.
CREATE INDEX attachments_storage_key_idx ON attachments (storage_key);
