-- The visit programme. The organization's lockout rules and whether a report needs an
-- assignment (one row per organization that changed them; none means every rule is off).
CREATE TABLE programme_settings (
    org_id TEXT NOT NULL PRIMARY KEY REFERENCES organizations (id),
    lockout_days INTEGER CHECK (lockout_days IS NULL OR lockout_days BETWEEN 1 AND 3650),
    max_visits_per_location_per_year INTEGER
        CHECK (max_visits_per_location_per_year IS NULL OR max_visits_per_location_per_year BETWEEN 1 AND 365),
    require_assignment BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);

-- Locations a shopper may not visit (they live or work there).
CREATE TABLE shopper_exclusions (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    shopper_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, shopper_id, location_id),
    FOREIGN KEY (org_id, shopper_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id)
);

-- A wave: a period (local dates, inclusive) in which each location in its scope (all active
-- locations, or those of a region or with a tag) is to be visited a number of times with a
-- questionnaire key.
CREATE TABLE waves (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    id TEXT NOT NULL CHECK (length(id) = 36),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    starts_on TEXT NOT NULL CHECK (length(starts_on) = 10),
    ends_on TEXT NOT NULL CHECK (length(ends_on) = 10 AND ends_on >= starts_on),
    questionnaire_key TEXT NOT NULL CHECK (length(questionnaire_key) BETWEEN 1 AND 64),
    visits_per_location INTEGER NOT NULL CHECK (visits_per_location BETWEEN 1 AND 52),
    region TEXT CHECK (region IS NULL OR length(region) BETWEEN 1 AND 100),
    tag TEXT CHECK (tag IS NULL OR length(tag) BETWEEN 1 AND 50),
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX waves_starts_idx ON waves (org_id, starts_on);

-- A planned visit. `expired` is not stored: an open, assigned or accepted assignment whose
-- window has ended is expired when read.
CREATE TABLE assignments (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    id TEXT NOT NULL CHECK (length(id) = 36),
    wave_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    shopper_id TEXT,
    visit_from TEXT NOT NULL CHECK (length(visit_from) = 10),
    visit_to TEXT NOT NULL CHECK (length(visit_to) = 10 AND visit_to >= visit_from),
    slot TEXT CHECK (slot IS NULL OR slot IN ('morning', 'midday', 'evening')),
    instructions TEXT NOT NULL DEFAULT '' CHECK (length(instructions) <= 2000),
    status TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'accepted', 'completed', 'declined', 'cancelled')),
    report_id TEXT CHECK (report_id IS NULL OR length(report_id) = 36),
    decline_reason TEXT CHECK (decline_reason IS NULL OR length(decline_reason) <= 1000),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, wave_id) REFERENCES waves (org_id, id),
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id),
    FOREIGN KEY (org_id, shopper_id) REFERENCES users (org_id, id)
);
CREATE INDEX assignments_wave_idx ON assignments (org_id, wave_id, location_id);
CREATE INDEX assignments_shopper_idx ON assignments (org_id, shopper_id, location_id);
CREATE INDEX assignments_report_idx ON assignments (org_id, report_id);
