//! `/api/v1/questionnaires/{id}/translations`: a version's texts in other languages. Admins
//! store and remove them (on drafts and published versions alike); every reader of the
//! version may read them.

use actix_web::{HttpResponse, delete, get, put, web};

use super::service::Reader;
use super::translations::{
    self as service, TranslationError, TranslationList, TranslationRequest, TranslationResponse,
};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::ids::QuestionnaireId;
use crate::state::AppState;

impl From<TranslationError> for ApiError {
    fn from(e: TranslationError) -> Self {
        let detail = e.to_string();
        match e {
            TranslationError::Questionnaire(e) => e.into(),
            TranslationError::Invalid(violations) => ApiError::validation(violations),
            TranslationError::NoTranslation(_) => ApiError::not_found().with_detail(detail),
            TranslationError::TooMany => ApiError::conflict(ErrorCode::TooManyTranslations, detail),
            TranslationError::Db(e) => e.into(),
        }
    }
}

fn reader(auth: &AuthUser) -> Result<Reader, ApiError> {
    auth.require_role_or_scope(&Role::ALL, Scope::QuestionnairesRead)?;
    Ok(if auth.role() == Some(Role::Admin) {
        Reader::Admin
    } else {
        Reader::Other
    })
}

/// List a version's languages.
///
/// Its source language and each translation with how many of its texts it covers. Every
/// reader of the version; integration clients need `questionnaires:read`.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = []), ("oauth2" = ["questionnaires:read"])),
    params(("id" = QuestionnaireId, Path, description = "version id")),
    responses(
        (status = 200, description = "The languages", body = TranslationList),
        (status = 403, description = "A client without `questionnaires:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version (drafts are visible to admins only)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/questionnaires/{id}/translations")]
pub async fn list_translations(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<QuestionnaireId>,
) -> Result<web::Json<TranslationList>, ApiError> {
    let reader = reader(&auth)?;
    let list = service::list(&state.db, auth.org_id, reader, id.into_inner()).await?;
    Ok(web::Json(list))
}

/// Get one translation.
///
/// Its texts beside the source's (every key a translation may give), and the keys it leaves
/// to the source. Every reader of the version; integration clients need
/// `questionnaires:read`.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = []), ("oauth2" = ["questionnaires:read"])),
    params(
        ("id" = QuestionnaireId, Path, description = "version id"),
        ("language" = String, Path, max_length = 35, description = "a BCP 47 language tag, such as `de` or `pt-BR`"),
    ),
    responses(
        (status = 200, description = "The translation", body = TranslationResponse),
        (status = 403, description = "A client without `questionnaires:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version, or no translation into this language", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/questionnaires/{id}/translations/{language}")]
pub async fn get_translation(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(QuestionnaireId, String)>,
) -> Result<web::Json<TranslationResponse>, ApiError> {
    let reader = reader(&auth)?;
    let (id, language) = path.into_inner();
    let found = service::find(&state.db, auth.org_id, reader, id, language).await?;
    Ok(web::Json(found))
}

/// Store a translation.
///
/// Replaces the version's translation into `language` (a draft's or a published version's:
/// a translation changes no scoring, so no new version is needed). Every key must name a
/// text of the version; texts left out show the source, and the answer lists them in
/// `missing`. Recorded in the audit log; raises `questionnaire.translation_changed`. A
/// version has at most 50 translations. Admins only.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    params(
        ("id" = QuestionnaireId, Path, description = "version id"),
        ("language" = String, Path, max_length = 35, description = "a BCP 47 language tag, such as `de` or `pt-BR`"),
    ),
    request_body = TranslationRequest,
    responses(
        (status = 200, description = "The stored translation", body = TranslationResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version has 50 translations already (`too_many_translations`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid language, an unknown key, an empty or too long text, a lost placeholder, an unknown field: every violation listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/questionnaires/{id}/translations/{language}")]
pub async fn put_translation(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(QuestionnaireId, String)>,
    body: ApiJson<TranslationRequest>,
) -> Result<web::Json<TranslationResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let (id, language) = path.into_inner();
    let texts = body.into_inner().texts;
    let stored = service::put(&state.db, auth.org_id, auth.actor(), id, language, texts).await?;
    Ok(web::Json(stored))
}

/// Remove a translation.
///
/// Readers who asked for the language get the source again. Recorded in the audit log;
/// raises `questionnaire.translation_changed`. Admins only.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    params(
        ("id" = QuestionnaireId, Path, description = "version id"),
        ("language" = String, Path, max_length = 35, description = "a BCP 47 language tag"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version, or no translation into this language", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/questionnaires/{id}/translations/{language}")]
pub async fn delete_translation(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(QuestionnaireId, String)>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let (id, language) = path.into_inner();
    service::remove(&state.db, auth.org_id, auth.actor(), id, language).await?;
    Ok(HttpResponse::NoContent().finish())
}
