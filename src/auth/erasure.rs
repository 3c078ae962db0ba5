//! `POST /api/v1/users/{id}/erase`: a person's right to erasure. Their account becomes a
//! pseudonym that cannot sign in; the free text they wrote (narratives, comments, free-text
//! answers, staff descriptions, review notes, appeal reasons), their check-in positions and
//! device ids, and the photos of staff in their reports are removed. Their reports stay,
//! with their scores, so every figure stays the same.

use std::collections::HashSet;

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::UserResponse;
use super::extractor::AuthUser;
use super::model::{Role, UserId};
use super::service::AuthError;
use crate::audit::model::{self as audit, Target};
use crate::db::{DbConn, QueryResult, identity, questionnaires, removal};
use crate::error::{ApiError, Problem};
use crate::events::model as event;
use crate::events::service as events;
use crate::ids::QuestionnaireId;
use crate::questionnaires::model::QuestionType;
use crate::state::AppState;

/// What an erasure did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"user": {"id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "email": "erased-0190c3e48f4b7c2a9d1e3b5a6c7d8e9f@erased.invalid", "display_name": "Erased user", "role": "shopper", "active": false, "preferred_language": null, "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-12-07T10:00:00Z"}, "reports": 14, "files": 3}))]
pub struct ErasureResponse {
    /// The account as it stays: a pseudonym, inactive.
    pub user: UserResponse,
    /// Their reports, kept with their scores and emptied of free text.
    pub reports: u64,
    /// Photos of staff in those reports, deleted from the store.
    pub files: u64,
}

/// The keys of free-text questions of the questionnaires `user` answered.
fn text_questions(
    conn: &mut DbConn,
    org: crate::ids::OrgId,
    user: UserId,
) -> QueryResult<HashSet<String>> {
    let mut keys = HashSet::new();
    for id in removal::questionnaires_of(conn, org, user)? {
        let Ok(id) = id.parse::<QuestionnaireId>() else {
            continue;
        };
        if let Some(q) = questionnaires::find(conn, org, id)? {
            for section in &q.content.sections {
                for question in &section.questions {
                    if question.kind == QuestionType::Text {
                        keys.insert(question.key.clone());
                    }
                }
            }
        }
    }
    Ok(keys)
}

/// Erase a user.
///
/// For a person's right to erasure. Their email becomes a pseudonym
/// (`erased-{id}@erased.invalid`), their name "Erased user"; they can no longer sign in and
/// their sessions end. In everything they wrote, the free text is emptied: their reports'
/// narratives, comments, free-text answers and staff descriptions (every revision), their
/// check-in positions and device ids, their review notes and appeal reasons; photos of a
/// `shows_staff` question in their reports are deleted from the store. The reports stay
/// with their answers and scores, so every figure stays the same. The audit log keeps that
/// their account changed, without what it said. A `user.erased` event says it happened
/// (their id and role, no personal data). Backups taken before keep the old data until
/// they expire. The organization's last active admin cannot be erased. Admins only.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "user id")),
    responses(
        (status = 200, description = "Erased", body = ErasureResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active admin (`last_admin`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/erase")]
pub async fn erase_user(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
) -> Result<web::Json<ErasureResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let (org, actor, id) = (auth.org_id, auth.actor(), id.into_inner());
    let (user, reports, files) = state
        .db
        .write(move |tx| {
            identity::lock_organization(tx, org)?;
            let before = identity::find_user(tx, org, id)?.ok_or(AuthError::NotFound)?;
            if before.active
                && before.role == Role::Admin
                && identity::count_active_admins(tx, org)? <= 1
            {
                return Err(AuthError::LastAdmin);
            }
            let text = text_questions(tx, org, id)?;
            let pseudonym = format!("erased-{}@erased.invalid", id.0.simple());
            let now = tx.now();
            let erased = removal::erase_user(tx, org, id, &pseudonym, &text, now)?;
            let (reports, files) = (erased.reports as u64, erased.files.len() as u64);
            events::record(
                tx,
                &event::user_erased(org, id, before.role, reports, files),
            )?;
            audit::record(
                tx,
                org,
                actor,
                "user.erased",
                Target::new("user", id),
                None::<&()>,
                Some(&serde_json::json!({"role": before.role, "reports": reports, "files": files})),
            )?;
            let after = identity::find_user(tx, org, id)?.ok_or(AuthError::NotFound)?;
            Ok((after, reports, erased.files))
        })
        .await?;
    // The files, once the rows that named them are gone (a file another row still names
    // stays; the sweeper takes any left behind).
    let deleted =
        crate::attachments::service::delete_unnamed(&state.db, &state.storage, files.clone())
            .await?;
    tracing::info!(user = %id, reports, files = deleted, "user erased");
    Ok(web::Json(ErasureResponse {
        user: user.into(),
        reports,
        files: files.len() as u64,
    }))
}
