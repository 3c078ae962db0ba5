//! `/api/v1/questionnaires`: versioned survey templates. Admins write drafts and publish
//! them; a published version never changes. Every role reads published versions.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::dto::{
    CreateQuestionnaireRequest, LanguageQuery, ListQuestionnairesQuery, QuestionnaireResponse,
    UpdateQuestionnaireRequest,
};
use super::model::{Questionnaire, QuestionnaireSummary, Status};
use super::service::{self, QuestionnaireError, Reader};
use super::{language, translations};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::db::questionnaires::QuestionnaireFilter;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::ids::QuestionnaireId;
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violation;

impl From<QuestionnaireError> for ApiError {
    fn from(e: QuestionnaireError) -> Self {
        let detail = e.to_string();
        match e {
            QuestionnaireError::Invalid(violations) => ApiError::validation(violations),
            QuestionnaireError::NotFound => ApiError::not_found(),
            QuestionnaireError::KeyTaken(_) => ApiError::conflict(ErrorCode::KeyTaken, detail),
            QuestionnaireError::Immutable(q) => ApiError::conflict(ErrorCode::Immutable, detail)
                .with_current_status(q.status.as_str()),
            QuestionnaireError::InvalidTransition { current, .. } => {
                ApiError::conflict(ErrorCode::InvalidTransition, detail)
                    .with_current_status(current.as_str())
            }
            QuestionnaireError::DraftExists { version, .. } => {
                let error = ApiError::conflict(ErrorCode::DraftExists, detail);
                match version {
                    Some(_) => error.with_current_status(Status::Draft.as_str()),
                    None => error,
                }
            }
            QuestionnaireError::Db(e) => e.into(),
        }
    }
}

/// Questionnaires can be large: up to 500 questions with their options and help texts.
pub const QUESTIONNAIRE_JSON_LIMIT: usize = 1024 * 1024;

fn can_read(auth: &AuthUser) -> Result<(), ApiError> {
    auth.require_role_or_scope(&Role::ALL, Scope::QuestionnairesRead)
}

/// Drafts are an admin's working copies; everyone else sees published and retired versions.
fn reader(auth: &AuthUser) -> Reader {
    if auth.role() == Some(Role::Admin) {
        Reader::Admin
    } else {
        Reader::Other
    }
}

fn location(q: &Questionnaire) -> String {
    format!("/api/v1/questionnaires/{}", q.id)
}

/// List questionnaire versions.
///
/// Oldest first, filtered by key and status, without their sections. Admins also see drafts;
/// everyone else sees published and retired versions. Integration clients need
/// `questionnaires:read`.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = []), ("oauth2" = ["questionnaires:read"])),
    params(ListQuestionnairesQuery),
    responses(
        (status = 200, description = "A page of versions (without their sections)", body = Page<QuestionnaireSummary>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client without `questionnaires:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/questionnaires")]
pub async fn list_questionnaires(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuestionnairesQuery>,
) -> Result<web::Json<Page<QuestionnaireSummary>>, ApiError> {
    can_read(&auth)?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let after = page.after_id::<QuestionnaireId>();
    let visible = if reader(&auth) == Reader::Admin {
        vec![Status::Draft, Status::Published, Status::Retired]
    } else {
        vec![Status::Published, Status::Retired]
    };
    let statuses: Vec<Status> = match query.status {
        Some(s) if visible.contains(&s) => vec![s],
        Some(_) => {
            return Ok(web::Json(Page::last(vec![])));
        }
        None => visible,
    };
    let filter = QuestionnaireFilter {
        key: query.key,
        statuses,
    };
    let rows = service::list(&state.db, auth.org_id, filter, after, page.fetch()).await?;
    Ok(web::Json(page.page(rows, |q| q.id.to_string(), |q| q)))
}

/// Create a questionnaire.
///
/// Version 1 of a new key, as a draft that admins may change until it is published. The content
/// is checked as a whole (keys, types and their settings, tiers, critical items, conditions);
/// every violation is listed with its pointer. Admins only.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    request_body = CreateQuestionnaireRequest,
    responses(
        (status = 201, description = "Created as a draft", body = QuestionnaireResponse,
            headers(("Location" = String, description = "the new version's URL"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key exists (`key_taken`); add a version instead", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Structural violations, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/questionnaires")]
pub async fn create_questionnaire(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<CreateQuestionnaireRequest, QUESTIONNAIRE_JSON_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let (key, content) = body.into_inner().content();
    let questionnaire = service::create(
        &state.db,
        auth.org_id,
        auth.actor(),
        auth.user_id(),
        key,
        content,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(&questionnaire)))
        .json(QuestionnaireResponse::from(questionnaire)))
}

/// Get one questionnaire version.
///
/// With all its sections and questions: what a shopper's app needs to show the form. Drafts are
/// visible to admins only. The texts come in the best of the version's languages for the
/// reader: `language` when given, else the user's `preferred_language` (`PATCH /me`), then
/// `Accept-Language` (RFC 4647 lookup: `de-AT` finds `de`), else the source language; the
/// answer's `language` and `Content-Language` say which. Keys, values and points are the
/// same in every language.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = []), ("oauth2" = ["questionnaires:read"])),
    params(
        ("id" = QuestionnaireId, Path, description = "version id"),
        LanguageQuery,
        ("Accept-Language" = Option<String>, Header, description = "the languages the reader wants, most wanted first (RFC 9110)"),
    ),
    responses(
        (status = 200, description = "The version", body = QuestionnaireResponse,
            headers(("Content-Language" = String, description = "the language of the texts"))),
        (status = 400, description = "`language` is not a language tag (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client without `questionnaires:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version (drafts are visible to admins only)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/questionnaires/{id}")]
pub async fn get_questionnaire(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<QuestionnaireId>,
    query: web::Query<LanguageQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    can_read(&auth)?;
    let wanted = wanted_languages(&state, &auth, query.into_inner().language, &request).await?;
    let (q, language) = translations::find_in(
        &state.db,
        auth.org_id,
        reader(&auth),
        id.into_inner(),
        wanted,
    )
    .await?;
    let mut body = QuestionnaireResponse::from(q);
    body.language = language.clone();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, language))
        .insert_header((header::VARY, "Accept-Language"))
        .json(body))
}

/// The languages a reader wants, most wanted first: `?language=`, else the user's
/// preferred language, then the `Accept-Language` header.
pub async fn wanted_languages(
    state: &AppState,
    auth: &AuthUser,
    asked: Option<String>,
    request: &HttpRequest,
) -> Result<Vec<String>, ApiError> {
    if let Some(asked) = asked {
        let tag = language::canonical_tag(&asked).map_err(|message| {
            ApiError::invalid_query(vec![Violation::new(
                "/language",
                "invalid_language",
                message,
            )])
        })?;
        return Ok(vec![tag]);
    }
    let mut wanted = Vec::new();
    if let Some(user) = auth.user_id() {
        let org = auth.org_id;
        let preferred = state
            .db
            .run(move |conn| {
                Ok::<_, crate::db::DbError>(crate::db::identity::preferred_language(
                    conn, org, user,
                )?)
            })
            .await?;
        wanted.extend(preferred);
    }
    if let Ok(accept) = <header::AcceptLanguage as header::Header>::parse(request) {
        wanted.extend(accept.ranked().into_iter().filter_map(|p| match p {
            header::Preference::Specific(tag) => Some(tag.as_str().to_string()),
            header::Preference::Any => None,
        }));
    }
    Ok(wanted)
}

/// Change a draft.
///
/// Send only the parts to change; the resulting content is checked as a whole. Published and
/// retired versions never change (409 `immutable`): add a version instead. Admins only.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    params(("id" = QuestionnaireId, Path, description = "version id")),
    request_body = UpdateQuestionnaireRequest,
    responses(
        (status = 200, description = "The changed draft", body = QuestionnaireResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft (`immutable`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Structural violations, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/questionnaires/{id}")]
pub async fn update_questionnaire(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<QuestionnaireId>,
    body: ApiJson<UpdateQuestionnaireRequest, QUESTIONNAIRE_JSON_LIMIT>,
) -> Result<web::Json<QuestionnaireResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let change = body.into_inner();
    let questionnaire = service::update_draft(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        |content| change.apply(content),
    )
    .await?;
    Ok(web::Json(questionnaire.into()))
}

/// Publish a draft.
///
/// From then on the version is immutable and shoppers can answer it; reports always point at
/// the exact version they answered. Admins only.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    params(("id" = QuestionnaireId, Path, description = "version id")),
    responses(
        (status = 200, description = "Published", body = QuestionnaireResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/questionnaires/{id}/publish")]
pub async fn publish_questionnaire(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<QuestionnaireId>,
) -> Result<web::Json<QuestionnaireResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let q = service::publish(&state.db, auth.org_id, auth.actor(), id.into_inner()).await?;
    Ok(web::Json(q.into()))
}

/// Retire a published version.
///
/// No new report may answer it; it stays readable together with the reports that used it.
/// Admins only.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    params(("id" = QuestionnaireId, Path, description = "version id")),
    responses(
        (status = 200, description = "Retired", body = QuestionnaireResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not published (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/questionnaires/{id}/retire")]
pub async fn retire_questionnaire(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<QuestionnaireId>,
) -> Result<web::Json<QuestionnaireResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let q = service::retire(&state.db, auth.org_id, auth.actor(), id.into_inner()).await?;
    Ok(web::Json(q.into()))
}

/// Start a new version.
///
/// A draft copied from the latest version of `key`, to change and publish. Refused (409
/// `draft_exists`) while the latest version is still a draft. Admins only.
#[utoipa::path(
    operation_id = "create_questionnaire_version",
    tag = "questionnaires",
    security(("bearer" = [])),
    params(("key" = String, Path, description = "questionnaire key")),
    responses(
        (status = 201, description = "The new draft", body = QuestionnaireResponse,
            headers(("Location" = String, description = "the new version's URL"))),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No questionnaire with this key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The latest version is still a draft (`draft_exists`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/questionnaires/{key}/versions")]
pub async fn create_version(
    auth: AuthUser,
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let draft = service::new_version(
        &state.db,
        auth.org_id,
        auth.actor(),
        auth.user_id(),
        key.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(&draft)))
        .json(QuestionnaireResponse::from(draft)))
}
