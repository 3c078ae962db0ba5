DROP TABLE refresh_tokens;
DROP TABLE integration_clients;
DROP TABLE users;
