//! Operations endpoints: liveness, readiness and metrics.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{Backend, NotReady};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::state::AppState;

/// How long readiness waits for a database connection before answering 503.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// The process answers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Alive {
    Ok,
}

/// Ready to serve requests.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    Ready,
}

/// Which database the server uses.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    pub status: Alive,
    /// Version of the running server.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessResponse {
    pub status: Ready,
    pub database: DatabaseKind,
}

/// Liveness.
///
/// The process is up and answering; it does not touch the database. For load balancers and
/// orchestrators.
#[utoipa::path(
    operation_id = "check_liveness",
    tag = "operations",
    responses((status = 200, description = "The process is alive", body = HealthResponse))
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<HealthResponse> {
    web::Json(HealthResponse {
        status: Alive::Ok,
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness.
///
/// The database is reachable and every migration is applied; 503 otherwise. Send traffic only
/// to ready instances.
#[utoipa::path(
    operation_id = "check_readiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve requests", body = ReadinessResponse),
        (status = 503, description = "Not ready: `database_unavailable` or `migrations_pending`",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<ReadinessResponse>, ApiError> {
    match state.db.readiness(READINESS_TIMEOUT).await {
        Ok(()) => Ok(web::Json(ReadinessResponse {
            status: Ready::Ready,
            database: match state.db.backend() {
                Backend::Sqlite => DatabaseKind::Sqlite,
                Backend::Postgres => DatabaseKind::Postgres,
            },
        })),
        Err(NotReady::Unreachable(reason)) => {
            tracing::warn!(reason = %reason, "not ready: database unreachable");
            Err(ApiError::unavailable(
                ErrorCode::DatabaseUnavailable,
                "the database is not reachable",
            ))
        }
        Err(NotReady::MigrationsPending(pending)) => Err(ApiError::unavailable(
            ErrorCode::MigrationsPending,
            format!(
                "{} database migration(s) not applied; run `secondmile migrate`",
                pending.len()
            ),
        )),
    }
}

/// Metrics.
///
/// Request counts and latencies by route and status, database pool figures and uploads in
/// flight, in the Prometheus text exposition format.
#[utoipa::path(
    operation_id = "get_metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String,
        content_type = "text/plain; version=0.0.4",
        example = json!("# TYPE secondmile_uploads_in_flight gauge\nsecondmile_uploads_in_flight 0\n")))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let body = state
        .metrics
        .render(state.db.pool_state(), state.uploads.in_flight());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
