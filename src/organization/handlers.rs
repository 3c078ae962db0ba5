//! `GET/PUT /api/v1/organization/settings`.

use actix_web::{get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{OrganizationSettings, SettingsChange};
use super::service;
use crate::auth::AuthUser;
use crate::auth::model::Role;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The organization's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"recognition_names": false, "action_plans": true}))]
pub struct OrganizationSettingsBody {
    /// The recognition feed names staff by the first name the shopper reported (default
    /// false: staff are never named). Descriptions of staff are never shown there.
    pub recognition_names: bool,
    /// An action plan opens by itself when a location's verdict becomes zero mile, or when
    /// a released visit has a critical failure (default false).
    pub action_plans: bool,
}

impl From<OrganizationSettings> for OrganizationSettingsBody {
    fn from(s: OrganizationSettings) -> Self {
        OrganizationSettingsBody {
            recognition_names: s.recognition_names,
            action_plans: s.action_plans,
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
        (status = 422, description = "A value of the wrong type", body = Problem, content_type = "application/problem+json"),
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
    let change = SettingsChange {
        recognition_names: body.recognition_names,
        action_plans: body.action_plans,
    };
    let stored = service::put_settings(&state.db, org, change).await?;
    Ok(web::Json(stored.into()))
}
