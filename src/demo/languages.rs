//! The demo's languages: the store questionnaire in German, French, Spanish and Japanese and
//! the phone questionnaire in German (the files in `examples/translations/`, stored as an
//! admin would store them), and the language a store's shoppers answer in: their country's,
//! where the questionnaire has it, else the questionnaire's own.

use super::DemoError;
use crate::audit::model::Actor;
use crate::db::Db;
use crate::ids::OrgId;
use crate::questionnaires::model::Questionnaire;
use crate::questionnaires::translations::{self, TranslationRequest};

/// (questionnaire key, language, `PUT …/translations/{language}` body).
const TRANSLATIONS: [(&str, &str, &str); 5] = [
    (
        "store-visit",
        "de",
        include_str!("../../examples/translations/store-visit.de.json"),
    ),
    (
        "store-visit",
        "fr",
        include_str!("../../examples/translations/store-visit.fr.json"),
    ),
    (
        "store-visit",
        "es",
        include_str!("../../examples/translations/store-visit.es.json"),
    ),
    (
        "store-visit",
        "ja",
        include_str!("../../examples/translations/store-visit.ja.json"),
    ),
    (
        "phone-support",
        "de",
        include_str!("../../examples/translations/phone-support.de.json"),
    ),
];

/// Stores every translation of the demo's questionnaires.
pub(super) async fn translate(
    db: &Db,
    org: OrgId,
    questionnaires: &[Questionnaire],
) -> Result<(), DemoError> {
    for (key, language, body) in TRANSLATIONS {
        let Some(q) = questionnaires.iter().find(|q| q.key == key) else {
            continue;
        };
        let request: TranslationRequest = serde_json::from_str(body)?;
        translations::put(db, org, Actor::System, q.id, language.into(), request.texts)
            .await
            .map_err(|e| DemoError::Refused(format!("the {language} translation of {key}: {e}")))?;
    }
    Ok(())
}

/// The language a shopper visiting a store in `country` (ISO 3166) answers `questionnaire`
/// in.
pub(super) fn spoken(country: &str, questionnaire: &Questionnaire) -> String {
    let local = match country {
        "DE" | "AT" => "de",
        "FR" => "fr",
        "ES" => "es",
        "JP" => "ja",
        _ => "",
    };
    let translated = TRANSLATIONS
        .iter()
        .any(|(key, language, _)| *key == questionnaire.key && *language == local);
    if translated {
        local.to_string()
    } else {
        questionnaire.content.source_language.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaires::dto::CreateQuestionnaireRequest;
    use crate::questionnaires::language;

    #[test]
    fn every_demo_translation_gives_every_text_of_its_questionnaire() {
        for (key, language, body) in TRANSLATIONS {
            let raw = match key {
                "store-visit" => super::super::STORE_VISIT,
                _ => super::super::PHONE_SUPPORT,
            };
            let request: CreateQuestionnaireRequest = serde_json::from_str(raw).unwrap();
            let (_, content) = request.content();
            let texts = serde_json::from_str::<TranslationRequest>(body)
                .unwrap()
                .texts;
            let coverage = language::check(&content, &texts)
                .unwrap_or_else(|v| panic!("{key} {language}: {v:?}"));
            assert_eq!(coverage.missing, Vec::<String>::new(), "{key} {language}");
        }
    }
}
