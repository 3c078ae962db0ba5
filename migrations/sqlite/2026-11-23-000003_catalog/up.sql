-- Places that are visited. `code` is the organization's own store number.
CREATE TABLE locations (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    code TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- JSON array of up to three lines.
    address_lines TEXT NOT NULL,
    city TEXT,
    postal_code TEXT,
    country TEXT CHECK (country IS NULL OR length(country) = 2),
    region TEXT,
    timezone TEXT NOT NULL,
    latitude DOUBLE PRECISION CHECK (latitude IS NULL OR (latitude >= -90 AND latitude <= 90)),
    longitude DOUBLE PRECISION CHECK (longitude IS NULL OR (longitude >= -180 AND longitude <= 180)),
    -- Tags as `|a|b|`, so one LIKE finds a tag on both backends.
    tags TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    UNIQUE (org_id, code)
);
CREATE INDEX locations_org_idx ON locations (org_id, id);
CREATE INDEX locations_org_region_idx ON locations (org_id, region);

-- The locations a manager may see.
CREATE TABLE manager_locations (
    user_id TEXT NOT NULL REFERENCES users (id),
    location_id TEXT NOT NULL REFERENCES locations (id),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (user_id, location_id)
);
CREATE INDEX manager_locations_location_idx ON manager_locations (location_id);

-- Questionnaire versions. `content` is the JSON of sections and questions; a published
-- version never changes, and reports point at the exact version they answered.
CREATE TABLE questionnaires (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    version INTEGER NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    retired_at TIMESTAMP,
    UNIQUE (org_id, key, version)
);
CREATE INDEX questionnaires_org_idx ON questionnaires (org_id, id);
