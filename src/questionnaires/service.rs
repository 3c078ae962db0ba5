//! The use cases of questionnaire versions: drafts, publishing, retiring, new versions.
//! Each owns its database work and answers with domain results or a [`QuestionnaireError`].

use super::dto::QuestionnaireResponse;
use super::model::{Questionnaire, QuestionnaireContent, QuestionnaireSummary, Status, is_slug};
use super::rules;
use crate::audit::model::{self as audit, Actor, Target};
use crate::db::questionnaires::{self as store, QuestionnaireFilter};
use crate::db::{self, Db, DbError, is_unique_violation};
use crate::events::model::EventType;
use crate::events::service as events;
use crate::ids::{OrgId, QuestionnaireId, UserId};
use crate::validation::Violation;

/// Why a questionnaire use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum QuestionnaireError {
    #[error("invalid questionnaire")]
    Invalid(Vec<Violation>),
    /// No such version, or a draft the caller may not see.
    #[error("not found")]
    NotFound,
    #[error(
        "a questionnaire with key `{0}` exists; add a version with POST /api/v1/questionnaires/{0}/versions"
    )]
    KeyTaken(String),
    #[error("version {} of `{}` is {}; only drafts change. Add a version to make changes.", .0.version, .0.key, .0.status.as_str())]
    Immutable(Box<Questionnaire>),
    #[error("only a {} version can become {}; this one is {}", .from.as_str(), .to.as_str(), .current.as_str())]
    InvalidTransition {
        from: Status,
        to: Status,
        current: Status,
    },
    /// The latest version of the key is a draft (`Some(version)`), or another version was
    /// created at the same time (`None`).
    #[error("{}", match .version {
        Some(v) => format!("version {v} of `{}` is still a draft; change or publish it", .key),
        None => "another version was created at the same time".to_string(),
    })]
    DraftExists { key: String, version: Option<i32> },
    #[error(transparent)]
    Db(#[from] DbError),
}

db::domain_error!(QuestionnaireError);

/// Who reads: admins see drafts; everyone else published and retired versions only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Admin,
    Other,
}

/// A page of versions of `org` matching `filter`, after `after`, in id order.
pub async fn list(
    db: &Db,
    org: OrgId,
    filter: QuestionnaireFilter,
    after: Option<QuestionnaireId>,
    limit: i64,
) -> Result<Vec<QuestionnaireSummary>, QuestionnaireError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(store::list(conn, org, &filter, after, limit)?))
        .await?)
}

/// The published versions of `org`, whole (sections, questions, options), in id order: at
/// most `limit`, read at once.
pub async fn published(
    db: &Db,
    org: OrgId,
    limit: i64,
) -> Result<Vec<Questionnaire>, QuestionnaireError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(store::published(conn, org, limit)?))
        .await?)
}

/// One version, as `reader` may see it.
pub async fn find(
    db: &Db,
    org: OrgId,
    reader: Reader,
    id: QuestionnaireId,
) -> Result<Questionnaire, QuestionnaireError> {
    let found = db
        .run(move |conn| Ok::<_, DbError>(store::find(conn, org, id)?))
        .await?;
    match found {
        Some(q) if q.status != Status::Draft || reader == Reader::Admin => Ok(q),
        _ => Err(QuestionnaireError::NotFound),
    }
}

/// Creates version 1 of a new key, as a draft.
pub async fn create(
    db: &Db,
    org: OrgId,
    actor: Actor,
    created_by: Option<UserId>,
    key: String,
    content: QuestionnaireContent,
) -> Result<Questionnaire, QuestionnaireError> {
    let mut errors = Vec::new();
    if !is_slug(&key) {
        errors.push(Violation::new(
            "/key",
            "invalid_key",
            "a key has 1 to 64 characters of a-z, 0-9, _ and -",
        ));
    }
    errors.extend(rules::validate(&content));
    if !errors.is_empty() {
        return Err(QuestionnaireError::Invalid(errors));
    }
    let now = db.now();
    let questionnaire = Questionnaire {
        id: QuestionnaireId::generate(),
        org_id: org,
        key,
        version: 1,
        status: Status::Draft,
        content,
        created_at: now,
        updated_at: now,
        published_at: None,
        retired_at: None,
    };
    let stored = questionnaire.clone();
    db.write(move |tx| {
        let taken = || QuestionnaireError::KeyTaken(stored.key.clone());
        if store::latest(tx, stored.org_id, &stored.key)?.is_some() {
            return Err(taken());
        }
        match store::insert(tx, &stored, created_by) {
            Err(e) if is_unique_violation(&e) => return Err(taken()),
            other => other?,
        }
        audited(tx, actor, "questionnaire.created", None, &stored)
    })
    .await?;
    Ok(questionnaire)
}

/// Changes a draft with `change`; published and retired versions never change.
pub async fn update_draft(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
    change: impl FnOnce(&mut QuestionnaireContent),
) -> Result<Questionnaire, QuestionnaireError> {
    let mut questionnaire = find(db, org, Reader::Admin, id).await?;
    if questionnaire.status != Status::Draft {
        return Err(QuestionnaireError::Immutable(Box::new(questionnaire)));
    }
    let before = questionnaire.clone();
    change(&mut questionnaire.content);
    let errors = rules::validate(&questionnaire.content);
    if !errors.is_empty() {
        return Err(QuestionnaireError::Invalid(errors));
    }
    questionnaire.updated_at = db.now();
    let stored = questionnaire.clone();
    let updated = db
        .write(move |tx| {
            if !store::update_draft(tx, &stored)? {
                return Ok(false);
            }
            audited(tx, actor, "questionnaire.updated", Some(&before), &stored)?;
            Ok::<_, QuestionnaireError>(true)
        })
        .await?;
    if !updated {
        // Published by someone else meanwhile.
        let current = find(db, org, Reader::Admin, id).await?;
        return Err(QuestionnaireError::Immutable(Box::new(current)));
    }
    Ok(questionnaire)
}

/// Records the change of a questionnaire in the audit log: the whole version as the API
/// shows it, before and after.
fn audited(
    tx: &mut crate::db::Tx<'_>,
    actor: Actor,
    action: &'static str,
    before: Option<&Questionnaire>,
    after: &Questionnaire,
) -> Result<(), QuestionnaireError> {
    audit::record(
        tx,
        after.org_id,
        actor,
        action,
        Target::new("questionnaire", after.id),
        before
            .map(|b| QuestionnaireResponse::from(b.clone()))
            .as_ref(),
        Some(&QuestionnaireResponse::from(after.clone())),
    )?;
    Ok(())
}

async fn transition(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
    from: Status,
    to: Status,
) -> Result<Questionnaire, QuestionnaireError> {
    let moved = db
        .write(move |tx| {
            let now = tx.now();
            let before = store::find(tx, org, id)?.ok_or(QuestionnaireError::NotFound)?;
            if !store::transition(tx, org, id, from, to, now)? {
                return Ok(false);
            }
            let (kind, action) = match to {
                Status::Published => (EventType::QuestionnairePublished, "questionnaire.published"),
                Status::Retired => (EventType::QuestionnaireRetired, "questionnaire.retired"),
                Status::Draft => return Ok(true),
            };
            let q = store::find(tx, org, id)?.ok_or(QuestionnaireError::NotFound)?;
            events::record(tx, &crate::events::model::questionnaire(kind, &q))?;
            audited(tx, actor, action, Some(&before), &q)?;
            Ok::<_, QuestionnaireError>(true)
        })
        .await?;
    let current = find(db, org, Reader::Admin, id).await?;
    if !moved {
        return Err(QuestionnaireError::InvalidTransition {
            from,
            to,
            current: current.status,
        });
    }
    Ok(current)
}

/// Publishes a draft: from then on it is immutable and shoppers can answer it.
pub async fn publish(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
) -> Result<Questionnaire, QuestionnaireError> {
    let q = transition(db, org, actor, id, Status::Draft, Status::Published).await?;
    tracing::info!(questionnaire = %q.id, key = %q.key, version = q.version, "questionnaire published");
    Ok(q)
}

/// Retires a published version: no new reports may answer it; it stays readable.
pub async fn retire(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: QuestionnaireId,
) -> Result<Questionnaire, QuestionnaireError> {
    transition(db, org, actor, id, Status::Published, Status::Retired).await
}

/// Starts a new version of `key`: a draft copied from its latest version, which must not be
/// a draft itself.
pub async fn new_version(
    db: &Db,
    org: OrgId,
    actor: Actor,
    created_by: Option<UserId>,
    key: String,
) -> Result<Questionnaire, QuestionnaireError> {
    let now = db.now();
    db.write(move |tx| {
        let latest = store::latest(tx, org, &key)?.ok_or(QuestionnaireError::NotFound)?;
        let key = key.clone();
        if latest.status == Status::Draft {
            return Err(QuestionnaireError::DraftExists {
                key,
                version: Some(latest.version),
            });
        }
        let draft = Questionnaire {
            id: QuestionnaireId::generate(),
            org_id: org,
            key: latest.key,
            version: latest.version + 1,
            status: Status::Draft,
            content: latest.content,
            created_at: now,
            updated_at: now,
            published_at: None,
            retired_at: None,
        };
        match store::insert(tx, &draft, created_by) {
            Err(e) if is_unique_violation(&e) => {
                return Err(QuestionnaireError::DraftExists {
                    key: draft.key,
                    version: None,
                });
            }
            other => other?,
        }
        audited(tx, actor, "questionnaire.version_created", None, &draft)?;
        Ok(draft)
    })
    .await
}
