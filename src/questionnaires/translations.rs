//! The use cases of a version's translations: store one (checked against the version, on a
//! draft or a published version alike: a translation changes no scoring), read them, remove
//! one, and read a version in the best language for a reader. Each change is audited and
//! raises `questionnaire.translation_changed` in its transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::interchange::{self, Format, Sheet};
use super::language::{self, Coverage, MAX_TRANSLATIONS};
use super::model::{Questionnaire, Status};
use super::service::{QuestionnaireError, Reader};
use crate::audit::model::{self as audit, Actor, Target};
use crate::db::questionnaires::{self as store, translations};
use crate::db::{Db, DbError, identity};
use crate::events::service as events;
use crate::ids::{OrgId, QuestionnaireId};
use crate::validation::Violation;

/// Why a translation use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    #[error(transparent)]
    Questionnaire(#[from] QuestionnaireError),
    #[error("invalid translation")]
    Invalid(Vec<Violation>),
    #[error("this version has no translation into {0}")]
    NoTranslation(String),
    #[error("a version has at most {MAX_TRANSLATIONS} translations; remove one first")]
    TooMany,
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::db::domain_error!(TranslationError);

/// A translation's texts, by text key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"texts": {"title": "Ladenbesuch", "questions.greeted.text": "Wurden Sie innerhalb einer Minute begrüßt?", "questions.had_issue.options.yes.label": "Ja"}}))]
pub struct TranslationRequest {
    /// Text key to translated text. Keys are those of `GET .../translations/{language}`'s
    /// `source` (`title`, `description`, `sections.{key}.title`, `questions.{key}.text`,
    /// `questions.{key}.help`, `questions.{key}.options.{value}.label`); each at most its
    /// source's length (200, 5000, 200, 1000, 2000, 200 characters), placeholders such as
    /// `{name}` kept. A text left out shows the source.
    pub texts: BTreeMap<String, String>,
}

/// One translation: its texts beside the source's, and what it leaves out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TranslationResponse {
    pub questionnaire_id: QuestionnaireId,
    /// The translation's language (BCP 47).
    #[schema(example = "de")]
    pub language: String,
    /// The version's own language.
    #[schema(example = "en")]
    pub source_language: String,
    pub texts: BTreeMap<String, String>,
    /// Every translatable text of the version in its source language, by key.
    pub source: BTreeMap<String, String>,
    /// Keys the translation leaves to the source, in the version's order.
    pub missing: Vec<String>,
    pub translated: u32,
    pub total: u32,
    /// `user:{id}` or `client:{id}`.
    pub updated_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A language of a version and how much of it is translated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LanguageCoverage {
    #[schema(example = "de")]
    pub language: String,
    pub translated: u32,
    pub total: u32,
    pub updated_at: DateTime<Utc>,
}

/// The languages of a version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TranslationList {
    pub questionnaire_id: QuestionnaireId,
    #[schema(example = "en")]
    pub source_language: String,
    /// The translations, by language.
    pub items: Vec<LanguageCoverage>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn response(q: &Questionnaire, t: translations::Translation) -> TranslationResponse {
    let coverage = coverage(q, &t.texts);
    TranslationResponse {
        questionnaire_id: q.id,
        language: t.language,
        source_language: q.content.source_language.clone(),
        texts: t.texts,
        source: language::texts(&q.content)
            .into_iter()
            .map(|text| (text.key, text.source))
            .collect(),
        missing: coverage.missing,
        translated: count(coverage.translated),
        total: count(coverage.total),
        updated_by: t.updated_by,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

fn coverage(q: &Questionnaire, texts: &BTreeMap<String, String>) -> Coverage {
    language::coverage(&q.content, texts)
}

/// The language in a path, canonical, or a 404 for one that cannot be a tag (no such
/// translation can exist).
fn path_language(language: &str) -> Result<String, TranslationError> {
    language::canonical_tag(language).map_err(|_| TranslationError::NoTranslation(language.into()))
}

fn visible(q: Option<Questionnaire>, reader: Reader) -> Result<Questionnaire, TranslationError> {
    match q {
        Some(q) if reader == Reader::Admin || q.status != Status::Draft => Ok(q),
        _ => Err(QuestionnaireError::NotFound.into()),
    }
}

/// Stores the translation of version `id` into `language`, replacing the one there was.
pub async fn put(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
    language: String,
    texts: BTreeMap<String, String>,
) -> Result<TranslationResponse, TranslationError> {
    let given = move |_: &Questionnaire, _: &str| Ok(texts.clone());
    store(
        db,
        org,
        actor,
        id,
        language,
        "questionnaire.translation_stored",
        given,
    )
    .await
}

/// Stores the translation of version `id` into `language` that a translators' file gives
/// (replacing the one there was), or every problem of the file.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
    language: String,
    format: Format,
    file: Vec<u8>,
) -> Result<TranslationResponse, TranslationError> {
    // The file is read against the version before the write transaction (off the async
    // workers, with no lock held); the transaction checks the texts again against the
    // version it reads, so a draft changed in between is caught there.
    let tag = wanted_language(&language)?;
    let texts = db
        .run(move |conn| {
            let q = visible(store::find(conn, org, id)?, Reader::Admin)?;
            not_the_source(&q, &tag)?;
            let version_id = q.id.to_string();
            let sheet = Sheet {
                version_id: &version_id,
                content: &q.content,
                language: &tag,
            };
            interchange::import(format, sheet, &file).map_err(TranslationError::Invalid)
        })
        .await?;
    let given = move |_: &Questionnaire, _: &str| Ok(texts.clone());
    store(
        db,
        org,
        actor,
        id,
        language,
        "questionnaire.translation_imported",
        given,
    )
    .await
}

/// A language from a path that a translation may be in, or why not.
fn wanted_language(language: &str) -> Result<String, TranslationError> {
    language::canonical_tag(language).map_err(|message| {
        TranslationError::Invalid(vec![Violation::new(
            "",
            "invalid_language",
            format!("the path's language: {message}"),
        )])
    })
}

fn not_the_source(q: &Questionnaire, language: &str) -> Result<(), TranslationError> {
    if language == q.content.source_language {
        return Err(TranslationError::Invalid(vec![Violation::new(
            "",
            "source_language",
            format!("{language} is the version's own language; change the version instead"),
        )]));
    }
    Ok(())
}

/// Stores the translation `given` makes of the version (checked against it), audited as
/// `action`, raising `questionnaire.translation_changed`.
async fn store<F>(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
    language: String,
    action: &'static str,
    given: F,
) -> Result<TranslationResponse, TranslationError>
where
    F: Fn(&Questionnaire, &str) -> Result<BTreeMap<String, String>, Vec<Violation>>
        + Send
        + 'static,
{
    let language = wanted_language(&language)?;
    db.write(move |tx| {
        // One writer of an organization's translations at a time: the cap holds.
        identity::lock_organization(tx, org)?;
        let q = visible(store::find(tx, org, id)?, Reader::Admin)?;
        not_the_source(&q, &language)?;
        let texts = given(&q, &language).map_err(TranslationError::Invalid)?;
        let coverage = language::check(&q.content, &texts).map_err(TranslationError::Invalid)?;
        let before = translations::find(tx, org, id, &language)?;
        if before.is_none() && translations::count(tx, org, id)? >= MAX_TRANSLATIONS as i64 {
            return Err(TranslationError::TooMany);
        }
        let now = tx.now();
        let by = format!("{}:{}", actor.kind(), actor.id());
        translations::put(tx, org, id, &language, &texts, &by, now)?;
        let after = translations::Translation {
            language: language.clone(),
            texts,
            updated_by: by,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        events::record(
            tx,
            &crate::events::model::translation_changed(
                &q,
                &language,
                true,
                coverage.translated,
                coverage.total,
            ),
        )?;
        audit::record(
            tx,
            org,
            actor,
            action,
            Target::new("questionnaire", id),
            before.map(|b| response(&q, b)).as_ref(),
            Some(&response(&q, after.clone())),
        )?;
        Ok(response(&q, after))
    })
    .await
}

/// A translation as a translators' file.
#[derive(Debug, Clone)]
pub struct TranslationFile {
    /// `{key}-v{version}.{language}.{csv|xlf}`.
    pub name: String,
    pub format: Format,
    pub bytes: Vec<u8>,
}

/// Version `id`'s texts as a translators' file for `language`, with its translation into
/// it where there is one (a language not yet translated gives every text to translate).
pub async fn export(
    db: &Db,
    org: OrgId,
    reader: Reader,
    id: QuestionnaireId,
    language: String,
    format: Format,
) -> Result<TranslationFile, TranslationError> {
    let language = wanted_language(&language)?;
    db.run(move |conn| {
        let q = visible(store::find(conn, org, id)?, reader)?;
        not_the_source(&q, &language)?;
        let texts = translations::find(conn, org, id, &language)?
            .map(|t| t.texts)
            .unwrap_or_default();
        let version_id = q.id.to_string();
        let sheet = Sheet {
            version_id: &version_id,
            content: &q.content,
            language: &language,
        };
        Ok(TranslationFile {
            name: format!("{}-v{}.{language}.{}", q.key, q.version, format.extension()),
            format,
            bytes: interchange::export(format, sheet, &texts),
        })
    })
    .await
}

/// One translation of version `id`.
pub async fn find(
    db: &Db,
    org: OrgId,
    reader: Reader,
    id: QuestionnaireId,
    language: String,
) -> Result<TranslationResponse, TranslationError> {
    let language = path_language(&language)?;
    db.run(move |conn| {
        let q = visible(store::find(conn, org, id)?, reader)?;
        let t = translations::find(conn, org, id, &language)?
            .ok_or(TranslationError::NoTranslation(language))?;
        Ok(response(&q, t))
    })
    .await
}

/// The languages of version `id`.
pub async fn list(
    db: &Db,
    org: OrgId,
    reader: Reader,
    id: QuestionnaireId,
) -> Result<TranslationList, TranslationError> {
    db.run(move |conn| {
        let q = visible(store::find(conn, org, id)?, reader)?;
        let items = translations::list(conn, org, id)?
            .into_iter()
            .map(|t| {
                let c = coverage(&q, &t.texts);
                LanguageCoverage {
                    language: t.language,
                    translated: count(c.translated),
                    total: count(c.total),
                    updated_at: t.updated_at,
                }
            })
            .collect();
        Ok(TranslationList {
            questionnaire_id: q.id,
            source_language: q.content.source_language.clone(),
            items,
        })
    })
    .await
}

/// Removes the translation of version `id` into `language`.
pub async fn remove(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
    language: String,
) -> Result<(), TranslationError> {
    let language = path_language(&language)?;
    db.write(move |tx| {
        let q = visible(store::find(tx, org, id)?, Reader::Admin)?;
        let before = translations::find(tx, org, id, &language)?
            .ok_or_else(|| TranslationError::NoTranslation(language.clone()))?;
        translations::delete(tx, org, id, &language)?;
        let total = language::texts(&q.content).len();
        events::record(
            tx,
            &crate::events::model::translation_changed(&q, &language, false, 0, total),
        )?;
        audit::record(
            tx,
            org,
            actor,
            "questionnaire.translation_removed",
            Target::new("questionnaire", id),
            Some(&response(&q, before)),
            None::<&()>,
        )?;
        Ok(())
    })
    .await
}

/// Version `id` in the best of its languages for a reader who wants `wanted` (most wanted
/// first): RFC 4647 lookup, else the source.
pub async fn find_in(
    db: &Db,
    org: OrgId,
    reader: Reader,
    id: QuestionnaireId,
    wanted: Vec<String>,
) -> Result<(Questionnaire, String), TranslationError> {
    db.run(move |conn| {
        let q = visible(store::find(conn, org, id)?, reader)?;
        let stored = translations::list(conn, org, id)?;
        Ok(in_best(q, &stored, &wanted))
    })
    .await
}

/// Versions (of `org`), each in the best of its languages for `wanted`, with that language.
pub async fn all_in(
    db: &Db,
    org: OrgId,
    versions: Vec<Questionnaire>,
    wanted: Vec<String>,
) -> Result<Vec<(Questionnaire, String)>, TranslationError> {
    db.run(move |conn| {
        let ids: Vec<QuestionnaireId> = versions.iter().map(|q| q.id).collect();
        let mut stored = translations::of_versions(conn, org, &ids)?;
        Ok(versions
            .into_iter()
            .map(|q| {
                let of_q = stored.remove(&q.id).unwrap_or_default();
                in_best(q, &of_q, &wanted)
            })
            .collect())
    })
    .await
}

/// `q` in the best of its languages (`stored` are its translations) for `wanted`.
fn in_best(
    mut q: Questionnaire,
    stored: &[translations::Translation],
    wanted: &[String],
) -> (Questionnaire, String) {
    let (content, chosen) = language::in_best(q.content, translations::given(stored), wanted);
    q.content = content;
    (q, chosen)
}
