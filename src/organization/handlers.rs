//! `GET/PUT /api/v1/organization/settings`.

use actix_web::{get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{MAX_APPEAL_WINDOW_DAYS, OrganizationSettings, RETENTION_DAYS, SettingsChange};
use super::service;
use crate::auth::AuthUser;
use crate::auth::model::Role;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::validation::Violation;

/// The organization's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"recognition_names": false, "action_plans": true, "appeal_window_days": 14, "personal_data_retention_days": 0}))]
pub struct OrganizationSettingsBody {
    /// The recognition feed names staff by the first name the shopper reported (default
    /// false: staff are never named). Descriptions of staff are never shown there.
    pub recognition_names: bool,
    /// An action plan opens by itself when a location's verdict becomes zero mile, or when
    /// a released visit has a critical failure (default false).
    pub action_plans: bool,
    /// Days after a report's release in which a manager of its location may appeal it
    /// (default 14).
    #[schema(minimum = 1, maximum = 365)]
    pub appeal_window_days: u32,
    /// Days after a visit after which the report's narrative, its staff observed and its
    /// photos of staff (answers to a `shows_staff` question) are deleted, checked hourly;
    /// scores, answers and figures stay. 0 (the default) keeps them.
    #[schema(minimum = 0, maximum = 3650)]
    pub personal_data_retention_days: u32,
}

impl From<OrganizationSettings> for OrganizationSettingsBody {
    fn from(s: OrganizationSettings) -> Self {
        OrganizationSettingsBody {
            recognition_names: s.recognition_names,
            action_plans: s.action_plans,
            appeal_window_days: s.appeal_window_days,
            personal_data_retention_days: s.personal_data_retention_days,
        }
    }
}

/// Settings to change; those left out keep their value.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action_plans": true}))]
pub struct OrganizationSettingsChange {
    /// Name staff in the recognition feed.
    pub recognition_names: Option<bool>,
    /// Open action plans by themselves.
    pub action_plans: Option<bool>,
    /// The appeal window in days, 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    pub appeal_window_days: Option<u32>,
    /// The retention of personal text in days: 0 (kept) or 30 to 3650.
    #[schema(minimum = 0, maximum = 3650)]
    pub personal_data_retention_days: Option<u32>,
}

/// The organization's settings.
///
/// Admins only.
#[utoipa::path(
    tag = "organization",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings (defaults until an admin changes them)", body = OrganizationSettingsBody),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organization/settings")]
pub async fn get_organization_settings(
    auth: AuthUser,
    state: web::Data<AppState>,
) -> Result<web::Json<OrganizationSettingsBody>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let org = auth.org_id;
    let found = service::settings(&state.db, org).await?;
    Ok(web::Json(found.into()))
}

/// Change the organization's settings.
///
/// The settings named change; those left out keep their value. Admins only.
#[utoipa::path(
    tag = "organization",
    security(("bearer" = [])),
    request_body = OrganizationSettingsChange,
    responses(
        (status = 200, description = "The new settings", body = OrganizationSettingsBody),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value of the wrong type, or an appeal window or retention out of range (every violation listed)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/organization/settings")]
pub async fn put_organization_settings(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<OrganizationSettingsChange>,
) -> Result<web::Json<OrganizationSettingsBody>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let org = auth.org_id;
    let body = body.into_inner();
    let mut violations = Vec::new();
    if body
        .appeal_window_days
        .is_some_and(|d| !(1..=MAX_APPEAL_WINDOW_DAYS).contains(&d))
    {
        violations.push(Violation::new(
            "/appeal_window_days",
            "out_of_range",
            format!("from 1 to {MAX_APPEAL_WINDOW_DAYS} days"),
        ));
    }
    if body
        .personal_data_retention_days
        .is_some_and(|d| d != 0 && !RETENTION_DAYS.contains(&d))
    {
        violations.push(Violation::new(
            "/personal_data_retention_days",
            "out_of_range",
            format!(
                "0 (kept) or from {} to {} days",
                RETENTION_DAYS.start(),
                RETENTION_DAYS.end()
            ),
        ));
    }
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let change = SettingsChange {
        recognition_names: body.recognition_names,
        action_plans: body.action_plans,
        appeal_window_days: body.appeal_window_days,
        personal_data_retention_days: body.personal_data_retention_days,
    };
    let stored = service::put_settings(&state.db, org, auth.actor(), change).await?;
    Ok(web::Json(stored.into()))
}
