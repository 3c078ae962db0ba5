//! Translations of questionnaire versions: one row per version and language, the texts as
//! a JSON object from text key to translated text.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::questionnaire_translations as t;
use crate::db::{DbConn, bad_data};
use crate::ids::{OrgId, QuestionnaireId};

/// A stored translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub language: String,
    pub texts: BTreeMap<String, String>,
    /// `user:{id}` or `client:{id}`.
    pub updated_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type Row = (String, String, String, NaiveDateTime, NaiveDateTime);

fn columns() -> (
    t::language,
    t::texts,
    t::updated_by,
    t::created_at,
    t::updated_at,
) {
    (
        t::language,
        t::texts,
        t::updated_by,
        t::created_at,
        t::updated_at,
    )
}

fn from_row(
    (language, texts, updated_by, created_at, updated_at): Row,
) -> QueryResult<Translation> {
    let texts = serde_json::from_str(&texts)
        .map_err(|e| bad_data(format!("translation {language}: {e}")))?;
    Ok(Translation {
        language,
        texts,
        updated_by,
        created_at: created_at.and_utc(),
        updated_at: updated_at.and_utc(),
    })
}

/// The version's translations, by language.
pub fn list(conn: &mut DbConn, org: OrgId, id: QuestionnaireId) -> QueryResult<Vec<Translation>> {
    let rows: Vec<Row> = t::table
        .filter(t::org_id.eq(org))
        .filter(t::questionnaire_id.eq(id))
        .order(t::language)
        .select(columns())
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}

/// Each translation as its language and texts, as `language::in_best` takes them.
pub fn given(
    stored: &[Translation],
) -> impl Iterator<Item = (&str, &BTreeMap<String, String>)> + Clone {
    stored.iter().map(|t| (t.language.as_str(), &t.texts))
}

/// The translations of several versions, by version (one query).
pub fn of_versions(
    conn: &mut DbConn,
    org: OrgId,
    ids: &[QuestionnaireId],
) -> QueryResult<std::collections::HashMap<QuestionnaireId, Vec<Translation>>> {
    let rows: Vec<(
        QuestionnaireId,
        String,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
    )> = t::table
        .filter(t::org_id.eq(org))
        .filter(t::questionnaire_id.eq_any(ids.to_vec()))
        .order((t::questionnaire_id, t::language))
        .select((
            t::questionnaire_id,
            t::language,
            t::texts,
            t::updated_by,
            t::created_at,
            t::updated_at,
        ))
        .load(conn)?;
    let mut out: std::collections::HashMap<QuestionnaireId, Vec<Translation>> =
        std::collections::HashMap::new();
    for (id, language, texts, by, created, updated) in rows {
        out.entry(id)
            .or_default()
            .push(from_row((language, texts, by, created, updated))?);
    }
    Ok(out)
}

/// One translation of the version.
pub fn find(
    conn: &mut DbConn,
    org: OrgId,
    id: QuestionnaireId,
    language: &str,
) -> QueryResult<Option<Translation>> {
    let row: Option<Row> = t::table
        .filter(t::org_id.eq(org))
        .filter(t::questionnaire_id.eq(id))
        .filter(t::language.eq(language))
        .select(columns())
        .first(conn)
        .optional()?;
    row.map(from_row).transpose()
}

/// How many translations the version has.
pub fn count(conn: &mut DbConn, org: OrgId, id: QuestionnaireId) -> QueryResult<i64> {
    t::table
        .filter(t::org_id.eq(org))
        .filter(t::questionnaire_id.eq(id))
        .count()
        .get_result(conn)
}

/// Stores the translation into `language` (replacing the one there was).
pub fn put(
    conn: &mut DbConn,
    org: OrgId,
    id: QuestionnaireId,
    language: &str,
    texts: &BTreeMap<String, String>,
    updated_by: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let json = serde_json::to_string(texts).map_err(|e| bad_data(e.to_string()))?;
    let at = at.naive_utc();
    let updated = diesel::update(
        t::table
            .filter(t::org_id.eq(org))
            .filter(t::questionnaire_id.eq(id))
            .filter(t::language.eq(language)),
    )
    .set((
        t::texts.eq(&json),
        t::updated_by.eq(updated_by),
        t::updated_at.eq(at),
    ))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(t::table)
            .values((
                t::org_id.eq(org),
                t::questionnaire_id.eq(id),
                t::language.eq(language),
                t::texts.eq(&json),
                t::updated_by.eq(updated_by),
                t::created_at.eq(at),
                t::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes the translation into `language`; whether there was one.
pub fn delete(
    conn: &mut DbConn,
    org: OrgId,
    id: QuestionnaireId,
    language: &str,
) -> QueryResult<bool> {
    Ok(diesel::delete(
        t::table
            .filter(t::org_id.eq(org))
            .filter(t::questionnaire_id.eq(id))
            .filter(t::language.eq(language)),
    )
    .execute(conn)?
        > 0)
}
