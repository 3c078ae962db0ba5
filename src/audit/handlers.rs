//! `GET /api/v1/audit`: the organization's administrative changes, for its admins.

use actix_web::{get, web};

use super::dto::{AuditEntryResponse, AuditQuery};
use super::model::EntryFilter;
use crate::auth::extractor::AuthUser;
use crate::auth::model::Role;
use crate::db::DbError;
use crate::error::{ApiError, Problem};
use crate::ids::AuditId;
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violations;

/// List the audit log.
///
/// Every administrative change of the organization, newest first: users and their roles,
/// stores and exclusions, integration clients, locations, questionnaires, the organization's
/// and the programme's settings, webhooks, waves and erasures. Each names who made it (a
/// user, an integration client, or `system` for a command run on the server), when, the
/// action, its target, and the target as the API showed it before and after (never a
/// secret). Written in the transaction of the change; kept as long as the reports. Filtered
/// by actor, action, target and time. Admins only.
#[utoipa::path(
    operation_id = "list_audit_entries",
    tag = "organization",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries, newest first", body = Page<AuditEntryResponse>),
        (status = 400, description = "Invalid query (`invalid_query`, every problem listed)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn list_audit_entries(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Page<AuditEntryResponse>>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut violations = Violations::default();
    for (pointer, id) in [
        ("/query/actor_id", &q.actor_id),
        ("/query/target_id", &q.target_id),
    ] {
        if id
            .as_deref()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_err())
        {
            violations.push(pointer, "invalid_value", "an id (UUID)");
        }
    }
    if q.action.as_ref().is_some_and(|a| a.chars().count() > 64) {
        violations.push(
            "/query/action",
            "too_long",
            "an action has at most 64 characters",
        );
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && to <= from
    {
        violations.push("/query/to", "invalid_range", "`to` is after `from`");
    }
    violations
        .into_result(())
        .map_err(ApiError::invalid_query)?;
    let filter = EntryFilter {
        actor_id: q.actor_id.map(|id| id.to_lowercase()),
        action: q.action,
        target_kind: q.target_kind.map(|k| k.as_str().to_string()),
        target_id: q.target_id.map(|id| id.to_lowercase()),
        from: q.from,
        to: q.to,
    };
    let before = page.after_id::<AuditId>();
    let org = auth.org_id;
    let limit = page.fetch();
    let rows = state
        .db
        .run(move |conn| {
            crate::db::audit::list(conn, org, &filter, before, limit).map_err(DbError::Query)
        })
        .await?;
    Ok(web::Json(page.page(
        rows,
        |e| e.id.to_string(),
        AuditEntryResponse::from,
    )))
}
