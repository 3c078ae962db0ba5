-- A location's rollup rows, whatever their periods, are one index range: what a rebuild
-- deletes and replaces location by location, and what `rollups verify` reads. The primary
-- keys lead with the period (ranges read by period), so without these a rebuild scanned the
-- organization's rows once per location.
CREATE INDEX rollups_location_idx ON rollups (org_id, location_id);
CREATE INDEX rollup_sections_location_idx ON rollup_sections (org_id, location_id);
CREATE INDEX rollup_questions_location_idx ON rollup_questions (org_id, location_id);
