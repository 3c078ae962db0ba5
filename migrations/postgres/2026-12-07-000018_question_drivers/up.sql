-- What separates the miles, per question: of the visits where the question counted, how
-- many were zero mile and second mile, and how many of those earned its full points.
-- Filled by the rollups rebuild this migration asks for (see `startup::ROLLUPS_MIGRATIONS`).
ALTER TABLE rollup_questions ADD COLUMN zero_mile BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_questions ADD COLUMN second_mile BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_questions ADD COLUMN full_points_zero_mile BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_questions ADD COLUMN full_points_second_mile BIGINT NOT NULL DEFAULT 0;
