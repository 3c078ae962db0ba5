DROP TABLE assignments;
DROP TABLE waves;
DROP TABLE shopper_exclusions;
DROP TABLE programme_settings;
