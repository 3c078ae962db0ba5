-- The language a user reads questionnaires in: it wins over the browser's or the app's
-- Accept-Language (NULL: none set).
ALTER TABLE users ADD COLUMN preferred_language TEXT;
