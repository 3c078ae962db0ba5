//! `GET/PUT /api/v1/organization/settings`.

use actix_web::{get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::OrganizationSettings;
use super::service;
use crate::auth::AuthUser;
use crate::auth::model::Role;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The organization's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"recognition_names": false}))]
pub struct OrganizationSettingsBody {
    /// The recognition feed names staff by the first name the shopper reported (default
    /// false: staff are never named). Descriptions of staff are never shown there.
    pub recognition_names: bool,
}

impl From<OrganizationSettings> for OrganizationSettingsBody {
    fn from(s: OrganizationSettings) -> Self {
        OrganizationSettingsBody {
            recognition_names: s.recognition_names,
        }
    }
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
/// The whole set is given. Admins only.
#[utoipa::path(
    tag = "organization",
    security(("bearer" = [])),
    request_body = OrganizationSettingsBody,
    responses(
        (status = 200, description = "The new settings", body = OrganizationSettingsBody),
        (status = 400, description = "Malformed JSON or a missing field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value of the wrong type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/organization/settings")]
pub async fn put_organization_settings(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<OrganizationSettingsBody>,
) -> Result<web::Json<OrganizationSettingsBody>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let org = auth.org_id;
    let wanted = OrganizationSettings {
        recognition_names: body.into_inner().recognition_names,
    };
    let stored = service::put_settings(&state.db, org, wanted).await?;
    Ok(web::Json(stored.into()))
}
