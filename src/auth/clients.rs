//! `/api/v1/integration-clients`: service accounts for BI tools, CRMs and other apps.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use validator::Validate;

use super::dto::{ClientResponse, CreateClientRequest, CreatedClientResponse, ListClientsQuery};
use super::extractor::AuthUser;
use super::model::{ClientId, Role, parse_display_name};
use super::service;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violations;

/// List integration clients.
///
/// The organization's service accounts, oldest first, active and revoked. Secrets are never
/// shown again after creation. Admins only.
#[utoipa::path(
    tag = "integration-clients",
    security(("bearer" = [])),
    params(ListClientsQuery),
    responses(
        (status = 200, description = "A page of clients", body = Page<ClientResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integration-clients")]
pub async fn list_clients(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListClientsQuery>,
) -> Result<web::Json<Page<ClientResponse>>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let after = page.after_id::<ClientId>();
    let rows = service::list_clients(&state.db, auth.org_id, after, page.fetch()).await?;
    Ok(web::Json(page.page(
        rows,
        |c| c.id.to_string(),
        ClientResponse::from,
    )))
}

/// Create an integration client.
///
/// A service account for a BI tool, CRM or other app, with the scopes it may ask for. The
/// response carries its secret: it is shown this once and stored only as a hash. The client
/// gets tokens with the `client_credentials` grant. Admins only.
#[utoipa::path(
    tag = "integration-clients",
    security(("bearer" = [])),
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "Created; keep `client_secret`, it cannot be shown again", body = CreatedClientResponse,
            headers(("Location" = String, description = "the new client's URL"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/integration-clients")]
pub async fn create_client(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<CreateClientRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let body = body.into_inner();
    let mut violations = Violations::default();
    if let Err(e) = body.validate() {
        violations.extend_validator(&e);
    }
    let name = violations.check("/name", "invalid_name", parse_display_name(&body.name));
    violations.finish()?;
    let Some(name) = name else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "validated name missing"
        )));
    };
    let (client, secret) = service::create_client(
        &state.db,
        auth.org_id,
        auth.actor(),
        auth.user_id(),
        name,
        body.scopes,
    )
    .await?;
    let id = client.id;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/integration-clients/{id}"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedClientResponse {
            client: client.into(),
            client_id: id,
            client_secret: secret,
        }))
}

/// Revoke an integration client.
///
/// It can no longer get tokens, and the tokens it holds stop working at once. Its record stays
/// (reports it submitted keep naming it). Admins only.
#[utoipa::path(
    tag = "integration-clients",
    security(("bearer" = [])),
    params(("id" = ClientId, Path, description = "client id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/integration-clients/{id}")]
pub async fn delete_client(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    service::revoke_client(&state.db, auth.org_id, auth.actor(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
