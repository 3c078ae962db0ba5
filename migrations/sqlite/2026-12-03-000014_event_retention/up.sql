-- Event retention: events up to `pruned_through` were removed after the retention period,
-- so the feed knows where it starts and can tell a reader whose cursor is older.
ALTER TABLE event_sequences ADD COLUMN pruned_through BIGINT NOT NULL DEFAULT 0;
