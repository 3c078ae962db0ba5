DROP INDEX reports_location_day_idx;
-- Back to the two-grain rollups of 2026-11-24-000007, empty: run `secondmile rollups rebuild`
-- with the older binary afterwards.
DROP TABLE rollup_questions;
DROP TABLE rollup_sections;
DROP TABLE rollups;
CREATE TABLE rollups (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    location_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    period TEXT NOT NULL CHECK (length(period) IN (7, 10)),
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
    PRIMARY KEY (org_id, location_id, questionnaire_key, period),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

-- The histogram of overall scores: visits per 5-point bucket (0 to 19).
CREATE TABLE rollup_buckets (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    location_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    period TEXT NOT NULL CHECK (length(period) IN (7, 10)),
    bucket INTEGER NOT NULL CHECK (bucket BETWEEN 0 AND 19),
    visits BIGINT NOT NULL CHECK (visits >= 0),
    PRIMARY KEY (org_id, location_id, questionnaire_key, period, bucket),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

-- Section scores: their sum and how many visits had one.
CREATE TABLE rollup_sections (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    location_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    period TEXT NOT NULL CHECK (length(period) IN (7, 10)),
    section_key TEXT NOT NULL,
    score_sum DOUBLE PRECISION NOT NULL,
    scored BIGINT NOT NULL CHECK (scored >= 0),
    PRIMARY KEY (org_id, location_id, questionnaire_key, period, section_key),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

-- Questions: how often they counted, earned all their points, and the points.
CREATE TABLE rollup_questions (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    location_id TEXT NOT NULL,
    questionnaire_key TEXT NOT NULL,
    period TEXT NOT NULL CHECK (length(period) IN (7, 10)),
    question_key TEXT NOT NULL,
    applicable BIGINT NOT NULL CHECK (applicable >= 0),
    full_points BIGINT NOT NULL CHECK (full_points >= 0),
    earned_sum DOUBLE PRECISION NOT NULL,
    possible_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (org_id, location_id, questionnaire_key, period, question_key),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

