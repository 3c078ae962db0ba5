//! `/api/v1/integration-clients`: service accounts for BI tools, CRMs and other apps.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use validator::Validate;

use super::dto::{ClientResponse, CreateClientRequest, CreatedClientResponse, ListClientsQuery};
use super::extractor::AuthUser;
use super::model::{ClientId, IntegrationClient, Role, Scope, parse_display_name};
use super::tokens;
use crate::db::{self, identity};
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violations;

/// List the organization's integration clients, oldest first (secrets are never shown).
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
    let (org, fetch) = (auth.org_id, page.fetch());
    let rows = state
        .db
        .run(move |conn| Ok::<_, ApiError>(identity::list_clients(conn, org, after, fetch)?))
        .await?;
    Ok(web::Json(page.page(
        rows,
        |c| c.id.to_string(),
        ClientResponse::from,
    )))
}

/// Create an integration client. The response carries its secret, shown this once.
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
    let mut scopes = body.scopes;
    scopes.sort();
    scopes.dedup();

    let secret = tokens::random_token("smcs_");
    let secret_hash = tokens::hash_secret(&secret);
    let now = db::now();
    let client = IntegrationClient {
        id: ClientId::generate(),
        org_id: auth.org_id,
        name,
        scopes,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let stored = client.clone();
    let created_by = auth.user_id();
    state
        .db
        .run(move |conn| {
            Ok::<_, ApiError>(identity::insert_client(
                conn,
                &stored,
                &secret_hash,
                created_by,
            )?)
        })
        .await?;
    tracing::info!(client = %client.id, scopes = %Scope::join(&client.scopes), "integration client created");
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

/// Revoke an integration client: it can no longer get tokens, and its tokens stop working.
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
    let (org, id) = (auth.org_id, id.into_inner());
    let found = state
        .db
        .run(move |conn| Ok::<_, ApiError>(identity::deactivate_client(conn, org, id, db::now())?))
        .await?;
    if !found {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}
