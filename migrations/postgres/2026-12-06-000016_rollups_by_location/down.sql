DROP INDEX rollup_questions_location_idx;
DROP INDEX rollup_sections_location_idx;
DROP INDEX rollups_location_idx;
