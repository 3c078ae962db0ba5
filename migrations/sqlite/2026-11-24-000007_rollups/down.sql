DROP INDEX reports_released_day_idx;
DROP TABLE rollup_questions;
DROP TABLE rollup_sections;
DROP TABLE rollup_buckets;
DROP TABLE rollups;
