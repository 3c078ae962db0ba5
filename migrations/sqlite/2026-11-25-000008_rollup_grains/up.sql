-- Rollups at three grains and with the histogram in the row. A range now reads whole months,
-- then whole ISO weeks, and only the days left at its ends (at most six on each side of a
-- week run), so the rows read per location stay bounded however dense the visits are; the
-- 20-bucket histogram of overall scores moves into the row itself (columns h00 to h19, visits
-- per 5-point bucket) instead of one row per bucket. The key leads with the period so a
-- range is an index range. Rollups are derived data: the tables are recreated empty and the
-- server rebuilds them from the released reports right after applying this migration (as
-- `secondmile rollups rebuild` does).
DROP TABLE rollup_questions;
DROP TABLE rollup_sections;
DROP TABLE rollup_buckets;
DROP TABLE rollups;

-- `period`: a day (YYYY-MM-DD), an ISO week (YYYY-Www, the ISO week-numbering year) or a
-- month (YYYY-MM) of the visit's local date.
CREATE TABLE rollups (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    location_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    period TEXT NOT NULL CHECK (length(period) IN (7, 8, 10)),
    visits BIGINT NOT NULL CHECK (visits >= 0),
    scored_visits BIGINT NOT NULL CHECK (scored_visits >= 0),
    score_sum DOUBLE PRECISION NOT NULL,
    score_sum_sq DOUBLE PRECISION NOT NULL,
    score_min DOUBLE PRECISION,
    score_max DOUBLE PRECISION,
    zero_mile BIGINT NOT NULL CHECK (zero_mile >= 0),
    first_mile BIGINT NOT NULL CHECK (first_mile >= 0),
    second_mile BIGINT NOT NULL CHECK (second_mile >= 0),
    critical_failures BIGINT NOT NULL CHECK (critical_failures >= 0),
    h00 BIGINT NOT NULL DEFAULT 0 CHECK (h00 >= 0),
    h01 BIGINT NOT NULL DEFAULT 0 CHECK (h01 >= 0),
    h02 BIGINT NOT NULL DEFAULT 0 CHECK (h02 >= 0),
    h03 BIGINT NOT NULL DEFAULT 0 CHECK (h03 >= 0),
    h04 BIGINT NOT NULL DEFAULT 0 CHECK (h04 >= 0),
    h05 BIGINT NOT NULL DEFAULT 0 CHECK (h05 >= 0),
    h06 BIGINT NOT NULL DEFAULT 0 CHECK (h06 >= 0),
    h07 BIGINT NOT NULL DEFAULT 0 CHECK (h07 >= 0),
    h08 BIGINT NOT NULL DEFAULT 0 CHECK (h08 >= 0),
    h09 BIGINT NOT NULL DEFAULT 0 CHECK (h09 >= 0),
    h10 BIGINT NOT NULL DEFAULT 0 CHECK (h10 >= 0),
    h11 BIGINT NOT NULL DEFAULT 0 CHECK (h11 >= 0),
    h12 BIGINT NOT NULL DEFAULT 0 CHECK (h12 >= 0),
    h13 BIGINT NOT NULL DEFAULT 0 CHECK (h13 >= 0),
    h14 BIGINT NOT NULL DEFAULT 0 CHECK (h14 >= 0),
    h15 BIGINT NOT NULL DEFAULT 0 CHECK (h15 >= 0),
    h16 BIGINT NOT NULL DEFAULT 0 CHECK (h16 >= 0),
    h17 BIGINT NOT NULL DEFAULT 0 CHECK (h17 >= 0),
    h18 BIGINT NOT NULL DEFAULT 0 CHECK (h18 >= 0),
    h19 BIGINT NOT NULL DEFAULT 0 CHECK (h19 >= 0),
    PRIMARY KEY (org_id, period, location_id, questionnaire_key),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

-- Section scores: their sum and how many visits had one.
CREATE TABLE rollup_sections (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    location_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    period TEXT NOT NULL CHECK (length(period) IN (7, 8, 10)),
    section_key TEXT NOT NULL,
    score_sum DOUBLE PRECISION NOT NULL,
    scored BIGINT NOT NULL CHECK (scored >= 0),
    PRIMARY KEY (org_id, period, location_id, questionnaire_key, section_key),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

-- Questions: how often they counted, earned all their points, and the points.
CREATE TABLE rollup_questions (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    location_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    period TEXT NOT NULL CHECK (length(period) IN (7, 8, 10)),
    question_key TEXT NOT NULL,
    applicable BIGINT NOT NULL CHECK (applicable >= 0),
    full_points BIGINT NOT NULL CHECK (full_points >= 0),
    earned_sum DOUBLE PRECISION NOT NULL,
    possible_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (org_id, period, location_id, questionnaire_key, question_key),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

-- A location's latest released visit in a range (the summary's `last_visit_date`) is one step
-- down this index, however many reports the location has.
CREATE INDEX reports_location_day_idx ON reports (org_id, location_id, visit_local_date);
