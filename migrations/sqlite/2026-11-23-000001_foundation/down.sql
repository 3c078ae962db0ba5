DROP TABLE settings;
DROP TABLE organizations;
