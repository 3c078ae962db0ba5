-- Translations of a questionnaire version: one row per language, its texts as a JSON object
-- from text key (`questions.greeted.text`) to the translated text. A translation changes no
-- scoring, so a published version may gain or change one.
CREATE TABLE questionnaire_translations (
    org_id TEXT NOT NULL,
    questionnaire_id TEXT NOT NULL,
    language TEXT NOT NULL,
    texts TEXT NOT NULL,
    -- Who changed it last: `user:{id}` or `client:{id}`.
    updated_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, questionnaire_id, language)
);
