//! Questionnaire versions. The content (sections and questions) is stored as JSON text.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

pub mod translations;

use super::schema::questionnaires;
use super::{DbConn, bad_data, stored};
use crate::ids::{OrgId, QuestionnaireId, UserId};
use crate::questionnaires::language;
use crate::questionnaires::model::{Questionnaire, QuestionnaireSummary, Status};

#[derive(Queryable, Selectable)]
#[diesel(table_name = questionnaires)]
struct QuestionnaireRow {
    id: QuestionnaireId,
    org_id: OrgId,
    key: String,
    version: i32,
    status: Status,
    content: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    published_at: Option<NaiveDateTime>,
    retired_at: Option<NaiveDateTime>,
}

impl QuestionnaireRow {
    fn into_questionnaire(self) -> QueryResult<Questionnaire> {
        let id = self.id;
        Ok(Questionnaire {
            id,
            org_id: self.org_id,
            key: self.key,
            version: self.version,
            status: self.status,
            content: stored::questionnaire_from_json(&self.content)
                .map_err(|e| bad_data(format!("questionnaire {id}: {e}")))?,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            published_at: self.published_at.map(|t| t.and_utc()),
            retired_at: self.retired_at.map(|t| t.and_utc()),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = questionnaires)]
struct SummaryRow {
    id: QuestionnaireId,
    key: String,
    version: i32,
    status: Status,
    title: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    published_at: Option<NaiveDateTime>,
    retired_at: Option<NaiveDateTime>,
}

impl From<SummaryRow> for QuestionnaireSummary {
    fn from(r: SummaryRow) -> Self {
        QuestionnaireSummary {
            id: r.id,
            key: r.key,
            version: r.version,
            status: r.status,
            title: r.title,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            published_at: r.published_at.map(|t| t.and_utc()),
            retired_at: r.retired_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = questionnaires)]
struct NewQuestionnaire<'a> {
    id: QuestionnaireId,
    org_id: OrgId,
    key: &'a str,
    version: i32,
    status: Status,
    title: &'a str,
    content: String,
    created_by: Option<UserId>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    published_at: Option<NaiveDateTime>,
    retired_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, q: &Questionnaire, created_by: Option<UserId>) -> QueryResult<()> {
    diesel::insert_into(questionnaires::table)
        .values(NewQuestionnaire {
            id: q.id,
            org_id: q.org_id,
            key: &q.key,
            version: q.version,
            status: q.status,
            title: &q.content.title,
            content: stored::questionnaire_to_json(&q.content),
            created_by,
            created_at: q.created_at.naive_utc(),
            updated_at: q.updated_at.naive_utc(),
            published_at: q.published_at.map(|t| t.naive_utc()),
            retired_at: q.retired_at.map(|t| t.naive_utc()),
        })
        .execute(conn)?;
    Ok(())
}

pub fn find(
    conn: &mut DbConn,
    org: OrgId,
    id: QuestionnaireId,
) -> QueryResult<Option<Questionnaire>> {
    questionnaires::table
        .filter(questionnaires::id.eq(id))
        .filter(questionnaires::org_id.eq(org))
        .select(QuestionnaireRow::as_select())
        .first(conn)
        .optional()?
        .map(QuestionnaireRow::into_questionnaire)
        .transpose()
}

/// The highest version of `key`, whatever its status.
pub fn latest(conn: &mut DbConn, org: OrgId, key: &str) -> QueryResult<Option<Questionnaire>> {
    questionnaires::table
        .filter(questionnaires::org_id.eq(org))
        .filter(questionnaires::key.eq(key))
        .order(questionnaires::version.desc())
        .select(QuestionnaireRow::as_select())
        .first(conn)
        .optional()?
        .map(QuestionnaireRow::into_questionnaire)
        .transpose()
}

/// The published versions of `org`, whole, in id order: at most `limit`.
pub fn published(conn: &mut DbConn, org: OrgId, limit: i64) -> QueryResult<Vec<Questionnaire>> {
    questionnaires::table
        .filter(questionnaires::org_id.eq(org))
        .filter(questionnaires::status.eq(Status::Published))
        .order(questionnaires::id.asc())
        .limit(limit)
        .select(QuestionnaireRow::as_select())
        .load(conn)?
        .into_iter()
        .map(QuestionnaireRow::into_questionnaire)
        .collect()
}

#[derive(Debug, Default, Clone)]
pub struct QuestionnaireFilter {
    pub key: Option<String>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<Status>,
}

pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &QuestionnaireFilter,
    after: Option<QuestionnaireId>,
    limit: i64,
) -> QueryResult<Vec<QuestionnaireSummary>> {
    let mut query = questionnaires::table
        .filter(questionnaires::org_id.eq(org))
        .select(SummaryRow::as_select())
        .order(questionnaires::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(questionnaires::id.gt(after));
    }
    if let Some(key) = &filter.key {
        query = query.filter(questionnaires::key.eq(key.clone()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(questionnaires::status.eq_any(filter.statuses.clone()));
    }
    Ok(query
        .load::<SummaryRow>(conn)?
        .into_iter()
        .map(QuestionnaireSummary::from)
        .collect())
}

/// Replaces the content of a draft; returns false when the version is no longer a draft.
pub fn update_draft(conn: &mut DbConn, q: &Questionnaire) -> QueryResult<bool> {
    let target = questionnaires::table
        .filter(questionnaires::id.eq(q.id))
        .filter(questionnaires::org_id.eq(q.org_id))
        .filter(questionnaires::status.eq(Status::Draft));
    let updated = diesel::update(target)
        .set((
            questionnaires::title.eq(&q.content.title),
            questionnaires::content.eq(stored::questionnaire_to_json(&q.content)),
            questionnaires::updated_at.eq(q.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Moves a version from `from` to `to` if it is still in `from`; returns whether it moved.
pub fn transition(
    conn: &mut DbConn,
    org: OrgId,
    id: QuestionnaireId,
    from: Status,
    to: Status,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = questionnaires::table
        .filter(questionnaires::id.eq(id))
        .filter(questionnaires::org_id.eq(org))
        .filter(questionnaires::status.eq(from));
    let at = at.naive_utc();
    let updated = match to {
        Status::Published => diesel::update(target)
            .set((
                questionnaires::status.eq(to),
                questionnaires::published_at.eq(Some(at)),
                questionnaires::updated_at.eq(at),
            ))
            .execute(conn)?,
        Status::Retired => diesel::update(target)
            .set((
                questionnaires::status.eq(to),
                questionnaires::retired_at.eq(Some(at)),
                questionnaires::updated_at.eq(at),
            ))
            .execute(conn)?,
        Status::Draft => diesel::update(target)
            .set((
                questionnaires::status.eq(to),
                questionnaires::updated_at.eq(at),
            ))
            .execute(conn)?,
    };
    Ok(updated == 1)
}

/// Section titles and question texts by key, from every version of the organization's
/// questionnaires (a later version's wording wins).
#[derive(Debug, Default)]
pub struct Wording {
    pub sections: std::collections::HashMap<String, String>,
    pub questions: std::collections::HashMap<String, String>,
}

pub fn wording(conn: &mut DbConn, org: OrgId, wanted: &[String]) -> QueryResult<Wording> {
    wording_of(conn, org, None, wanted)
}

/// The wording of one questionnaire key's versions (all of them when `None`), the latest
/// version's text winning, each version in the best of its languages for `wanted` (RFC 4647
/// lookup, else its source).
pub fn wording_of(
    conn: &mut DbConn,
    org: OrgId,
    key: Option<&str>,
    wanted: &[String],
) -> QueryResult<Wording> {
    let mut query = questionnaires::table
        .filter(questionnaires::org_id.eq(org))
        .order((questionnaires::key.asc(), questionnaires::version.asc()))
        .select(QuestionnaireRow::as_select())
        .into_boxed();
    if let Some(key) = key {
        query = query.filter(questionnaires::key.eq(key.to_string()));
    }
    let versions = query
        .load(conn)?
        .into_iter()
        .map(QuestionnaireRow::into_questionnaire)
        .collect::<QueryResult<Vec<_>>>()?;
    let mut stored = if wanted.is_empty() {
        std::collections::HashMap::new()
    } else {
        let ids: Vec<QuestionnaireId> = versions.iter().map(|q| q.id).collect();
        translations::of_versions(conn, org, &ids)?
    };
    let mut wording = Wording::default();
    for q in versions {
        let of_q = stored.remove(&q.id).unwrap_or_default();
        let (content, _) = language::in_best(q.content, translations::given(&of_q), wanted);
        for section in content.sections {
            for question in section.questions {
                wording.questions.insert(question.key, question.text);
            }
            wording.sections.insert(section.key, section.title);
        }
    }
    Ok(wording)
}
