DROP TABLE questionnaires;
DROP TABLE manager_locations;
DROP TABLE locations;
