//! Questionnaire versions. The content (sections and questions) is stored as JSON text.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::questionnaires;
use super::{DbConn, bad_data, parse_stored};
use crate::ids::{OrgId, QuestionnaireId, UserId};
use crate::questionnaires::model::{
    Questionnaire, QuestionnaireContent, QuestionnaireSummary, Status,
};

fn parse_status(s: &str) -> QueryResult<Status> {
    Status::parse(s).ok_or_else(|| bad_data(format!("unknown questionnaire status `{s}`")))
}

type FullRow = (
    String,
    String,
    String,
    i32,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

const FULL_COLUMNS: (
    questionnaires::id,
    questionnaires::org_id,
    questionnaires::key,
    questionnaires::version,
    questionnaires::status,
    questionnaires::content,
    questionnaires::created_at,
    questionnaires::updated_at,
    questionnaires::published_at,
    questionnaires::retired_at,
) = (
    questionnaires::id,
    questionnaires::org_id,
    questionnaires::key,
    questionnaires::version,
    questionnaires::status,
    questionnaires::content,
    questionnaires::created_at,
    questionnaires::updated_at,
    questionnaires::published_at,
    questionnaires::retired_at,
);

fn from_row(row: FullRow) -> QueryResult<Questionnaire> {
    let (
        id,
        org_id,
        key,
        version,
        status,
        content,
        created_at,
        updated_at,
        published_at,
        retired_at,
    ) = row;
    let content = super::stored::questionnaire_from_json(&content)
        .map_err(|e| bad_data(format!("questionnaire {id}: {e}")))?;
    Ok(Questionnaire {
        id: parse_stored(&id)?,
        org_id: parse_stored(&org_id)?,
        key,
        version,
        status: parse_status(&status)?,
        content,
        created_at: created_at.and_utc(),
        updated_at: updated_at.and_utc(),
        published_at: published_at.map(|t| t.and_utc()),
        retired_at: retired_at.map(|t| t.and_utc()),
    })
}

fn content_json(content: &QuestionnaireContent) -> QueryResult<String> {
    Ok(super::stored::questionnaire_to_json(content))
}

pub fn insert(conn: &mut DbConn, q: &Questionnaire, created_by: Option<UserId>) -> QueryResult<()> {
    diesel::insert_into(questionnaires::table)
        .values((
            questionnaires::id.eq(q.id.to_string()),
            questionnaires::org_id.eq(q.org_id.to_string()),
            questionnaires::key.eq(&q.key),
            questionnaires::version.eq(q.version),
            questionnaires::status.eq(q.status.as_str()),
            questionnaires::title.eq(&q.content.title),
            questionnaires::content.eq(content_json(&q.content)?),
            questionnaires::created_by.eq(created_by.map(|u| u.to_string())),
            questionnaires::created_at.eq(q.created_at.naive_utc()),
            questionnaires::updated_at.eq(q.updated_at.naive_utc()),
            questionnaires::published_at.eq(q.published_at.map(|t| t.naive_utc())),
            questionnaires::retired_at.eq(q.retired_at.map(|t| t.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(
    conn: &mut DbConn,
    org: OrgId,
    id: QuestionnaireId,
) -> QueryResult<Option<Questionnaire>> {
    questionnaires::table
        .filter(questionnaires::id.eq(id.to_string()))
        .filter(questionnaires::org_id.eq(org.to_string()))
        .select(FULL_COLUMNS)
        .first::<FullRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// The highest version of `key`, whatever its status.
pub fn latest(conn: &mut DbConn, org: OrgId, key: &str) -> QueryResult<Option<Questionnaire>> {
    questionnaires::table
        .filter(questionnaires::org_id.eq(org.to_string()))
        .filter(questionnaires::key.eq(key))
        .order(questionnaires::version.desc())
        .select(FULL_COLUMNS)
        .first::<FullRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
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
        .filter(questionnaires::org_id.eq(org.to_string()))
        .select((
            questionnaires::id,
            questionnaires::key,
            questionnaires::version,
            questionnaires::status,
            questionnaires::title,
            questionnaires::created_at,
            questionnaires::updated_at,
            questionnaires::published_at,
            questionnaires::retired_at,
        ))
        .order(questionnaires::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(questionnaires::id.gt(after.to_string()));
    }
    if let Some(key) = &filter.key {
        query = query.filter(questionnaires::key.eq(key.clone()));
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        query = query.filter(questionnaires::status.eq_any(statuses));
    }
    type Row = (
        String,
        String,
        i32,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    query
        .load::<Row>(conn)?
        .into_iter()
        .map(
            |(
                id,
                key,
                version,
                status,
                title,
                created_at,
                updated_at,
                published_at,
                retired_at,
            )| {
                Ok(QuestionnaireSummary {
                    id: parse_stored(&id)?,
                    key,
                    version,
                    status: parse_status(&status)?,
                    title,
                    created_at: created_at.and_utc(),
                    updated_at: updated_at.and_utc(),
                    published_at: published_at.map(|t| t.and_utc()),
                    retired_at: retired_at.map(|t| t.and_utc()),
                })
            },
        )
        .collect()
}

/// Replaces the content of a draft; returns false when the version is no longer a draft.
pub fn update_draft(conn: &mut DbConn, q: &Questionnaire) -> QueryResult<bool> {
    let target = questionnaires::table
        .filter(questionnaires::id.eq(q.id.to_string()))
        .filter(questionnaires::org_id.eq(q.org_id.to_string()))
        .filter(questionnaires::status.eq(Status::Draft.as_str()));
    let updated = diesel::update(target)
        .set((
            questionnaires::title.eq(&q.content.title),
            questionnaires::content.eq(content_json(&q.content)?),
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
        .filter(questionnaires::id.eq(id.to_string()))
        .filter(questionnaires::org_id.eq(org.to_string()))
        .filter(questionnaires::status.eq(from.as_str()));
    let at = at.naive_utc();
    let updated = match to {
        Status::Published => diesel::update(target)
            .set((
                questionnaires::status.eq(to.as_str()),
                questionnaires::published_at.eq(Some(at)),
                questionnaires::updated_at.eq(at),
            ))
            .execute(conn)?,
        Status::Retired => diesel::update(target)
            .set((
                questionnaires::status.eq(to.as_str()),
                questionnaires::retired_at.eq(Some(at)),
                questionnaires::updated_at.eq(at),
            ))
            .execute(conn)?,
        Status::Draft => diesel::update(target)
            .set((
                questionnaires::status.eq(to.as_str()),
                questionnaires::updated_at.eq(at),
            ))
            .execute(conn)?,
    };
    Ok(updated == 1)
}
