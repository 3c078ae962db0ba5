-- Choices an organization makes for itself (one row once an admin changed one; none means
-- every default). `recognition_names`: the recognition feed shows staff first names.
CREATE TABLE organization_settings (
    org_id TEXT NOT NULL PRIMARY KEY REFERENCES organizations (id),
    recognition_names BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);
