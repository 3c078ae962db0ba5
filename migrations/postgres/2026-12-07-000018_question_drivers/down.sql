ALTER TABLE rollup_questions DROP COLUMN full_points_second_mile;
ALTER TABLE rollup_questions DROP COLUMN full_points_zero_mile;
ALTER TABLE rollup_questions DROP COLUMN second_mile;
ALTER TABLE rollup_questions DROP COLUMN zero_mile;
