//! `/api/v1/questionnaires`: versioned survey templates. Admins write drafts and publish
//! them; a published version never changes. Every role reads published versions.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};

use super::dto::{
    CreateQuestionnaireRequest, ListQuestionnairesQuery, QuestionnaireResponse,
    UpdateQuestionnaireRequest,
};
use super::model::{self, Questionnaire, QuestionnaireSummary, Status, is_slug};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::db::questionnaires::{self as store, QuestionnaireFilter};
use crate::db::{self, is_unique_violation};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::ids::QuestionnaireId;
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violation;

/// Questionnaires can be large: up to 500 questions with their options and help texts.
pub const QUESTIONNAIRE_JSON_LIMIT: usize = 1024 * 1024;

fn can_read(auth: &AuthUser) -> Result<(), ApiError> {
    auth.require_role_or_scope(&Role::ALL, Scope::QuestionnairesRead)
}

/// Drafts are an admin's working copies; everyone else sees published and retired versions.
fn sees_drafts(auth: &AuthUser) -> bool {
    auth.role() == Some(Role::Admin)
}

fn location(q: &Questionnaire) -> String {
    format!("/api/v1/questionnaires/{}", q.id)
}

fn invalid(errors: Vec<Violation>) -> ApiError {
    ApiError::validation(errors)
}

/// List questionnaire versions, oldest first.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
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
    let visible = if sees_drafts(&auth) {
        vec![Status::Draft, Status::Published, Status::Retired]
    } else {
        vec![Status::Published, Status::Retired]
    };
    let statuses: Vec<Status> = match query.status {
        Some(s) if visible.contains(&s) => vec![s],
        Some(_) => {
            return Ok(web::Json(Page {
                items: vec![],
                next_cursor: None,
            }));
        }
        None => visible,
    };
    let filter = QuestionnaireFilter {
        key: query.key,
        statuses,
    };
    let (org, fetch) = (auth.org_id, page.fetch());
    let rows = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::list(conn, org, &filter, after, fetch)?))
        .await?;
    Ok(web::Json(page.page(rows, |q| q.id.to_string(), |q| q)))
}

/// Create a questionnaire: version 1 of a new key, as a draft.
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
    let mut errors = Vec::new();
    if !is_slug(&key) {
        errors.push(Violation::new(
            "/key",
            "invalid_key",
            "a key has 1 to 64 characters of a-z, 0-9, _ and -",
        ));
    }
    errors.extend(model::validate(&content));
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let now = db::now();
    let questionnaire = Questionnaire {
        id: QuestionnaireId::generate(),
        org_id: auth.org_id,
        key,
        version: 1,
        status: Status::Draft,
        content,
        created_at: now,
        updated_at: now,
        published_at: None,
        retired_at: None,
    };
    let stored = questionnaire.clone();
    let created_by = auth.user_id();
    state
        .db
        .run(move |conn| {
            let taken = || {
                ApiError::conflict(
                    ErrorCode::KeyTaken,
                    format!(
                        "a questionnaire with key `{}` exists; add a version with POST /api/v1/questionnaires/{}/versions",
                        stored.key, stored.key
                    ),
                )
            };
            if store::latest(conn, stored.org_id, &stored.key)?.is_some() {
                return Err(taken());
            }
            match store::insert(conn, &stored, created_by) {
                Err(e) if is_unique_violation(&e) => Err(taken()),
                other => Ok(other?),
            }
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(&questionnaire)))
        .json(QuestionnaireResponse::from(questionnaire)))
}

async fn load(
    state: &AppState,
    auth: &AuthUser,
    id: QuestionnaireId,
) -> Result<Questionnaire, ApiError> {
    let org = auth.org_id;
    let found = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::find(conn, org, id)?))
        .await?;
    match found {
        Some(q) if q.status != Status::Draft || sees_drafts(auth) => Ok(q),
        _ => Err(ApiError::not_found()),
    }
}

/// Get one version with all its sections and questions.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    params(("id" = QuestionnaireId, Path, description = "version id")),
    responses(
        (status = 200, description = "The version", body = QuestionnaireResponse),
        (status = 403, description = "A client without `questionnaires:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version (drafts are visible to admins only)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/questionnaires/{id}")]
pub async fn get_questionnaire(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<QuestionnaireId>,
) -> Result<web::Json<QuestionnaireResponse>, ApiError> {
    can_read(&auth)?;
    Ok(web::Json(
        load(&state, &auth, id.into_inner()).await?.into(),
    ))
}

fn immutable(q: &Questionnaire) -> ApiError {
    ApiError::conflict(
        ErrorCode::Immutable,
        format!(
            "version {} of `{}` is {}; only drafts change. Add a version to make changes.",
            q.version,
            q.key,
            q.status.as_str()
        ),
    )
    .with_current_status(q.status.as_str())
}

/// Change a draft. Published and retired versions never change (409).
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
    let mut questionnaire = load(&state, &auth, id.into_inner()).await?;
    if questionnaire.status != Status::Draft {
        return Err(immutable(&questionnaire));
    }
    body.into_inner().apply(&mut questionnaire.content);
    let errors = model::validate(&questionnaire.content);
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    questionnaire.updated_at = db::now();
    let stored = questionnaire.clone();
    let updated = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::update_draft(conn, &stored)?))
        .await?;
    if !updated {
        // Published by someone else meanwhile.
        let current = load(&state, &auth, questionnaire.id).await?;
        return Err(immutable(&current));
    }
    Ok(web::Json(questionnaire.into()))
}

async fn transition(
    state: &AppState,
    auth: &AuthUser,
    id: QuestionnaireId,
    from: Status,
    to: Status,
) -> Result<Questionnaire, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let org = auth.org_id;
    let moved = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::transition(conn, org, id, from, to, db::now())?))
        .await?;
    let current = load(state, auth, id).await?;
    if !moved {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            format!(
                "only a {} version can become {}; this one is {}",
                from.as_str(),
                to.as_str(),
                current.status.as_str()
            ),
        )
        .with_current_status(current.status.as_str()));
    }
    Ok(current)
}

/// Publish a draft. From then on it is immutable and shoppers can answer it.
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
    let q = transition(
        &state,
        &auth,
        id.into_inner(),
        Status::Draft,
        Status::Published,
    )
    .await?;
    tracing::info!(questionnaire = %q.id, key = %q.key, version = q.version, "questionnaire published");
    Ok(web::Json(q.into()))
}

/// Retire a published version: no new reports may answer it; it stays readable.
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
    let q = transition(
        &state,
        &auth,
        id.into_inner(),
        Status::Published,
        Status::Retired,
    )
    .await?;
    Ok(web::Json(q.into()))
}

/// Start a new version: a draft copied from the latest version of `key`.
#[utoipa::path(
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
    let key = key.into_inner();
    let (org, created_by) = (auth.org_id, auth.user_id());
    let draft = state
        .db
        .run(move |conn| {
            let latest = store::latest(conn, org, &key)?.ok_or_else(ApiError::not_found)?;
            if latest.status == Status::Draft {
                return Err(ApiError::conflict(
                    ErrorCode::DraftExists,
                    format!(
                        "version {} of `{key}` is still a draft; change or publish it",
                        latest.version
                    ),
                )
                .with_current_status(latest.status.as_str()));
            }
            let now = db::now();
            let draft = Questionnaire {
                id: QuestionnaireId::generate(),
                org_id: org,
                key: latest.key,
                version: latest.version + 1,
                status: Status::Draft,
                content: latest.content,
                created_at: now,
                updated_at: now,
                published_at: None,
                retired_at: None,
            };
            match store::insert(conn, &draft, created_by) {
                Err(e) if is_unique_violation(&e) => Err(ApiError::conflict(
                    ErrorCode::DraftExists,
                    "another version was created at the same time",
                )),
                other => other.map(|()| draft).map_err(ApiError::from),
            }
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(&draft)))
        .json(QuestionnaireResponse::from(draft)))
}
