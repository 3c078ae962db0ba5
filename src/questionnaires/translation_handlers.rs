//! `/api/v1/questionnaires/{id}/translations`: a version's texts in other languages. Admins
//! store and remove them (on drafts and published versions alike); every reader of the
//! version may read them.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, delete, get, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::interchange::Format;
use super::service::Reader;
use super::translations::{
    self as service, TranslationError, TranslationList, TranslationRequest, TranslationResponse,
};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::exports::handlers::attachment;
use crate::extract::{ApiJson, TypedBody};
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

/// A translators' file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TranslationFileFormat {
    /// CSV (`text/csv`): a row per text.
    Csv,
    /// XLIFF 2.0 (`application/xliff+xml`): a unit per text.
    Xliff,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `csv` (default) or `xliff`.
    pub format: Option<TranslationFileFormat>,
}

/// Export a translation for translators.
///
/// Every translatable text of the version in document order, with its key, the source text,
/// the translation into `language` where there is one (empty where there is none: a language
/// not translated yet gives the whole version to translate) and its longest length.
/// `format=csv` (the default): UTF-8 with a byte order mark, CRLF line ends, the header
/// `key,{source language},{language},max_chars`; a cell a spreadsheet would take for a
/// formula (or that begins with an apostrophe) gets a leading apostrophe, which an import
/// takes off. `format=xliff`: XLIFF 2.0, a `<unit>` per text named by its key, with a
/// `<target>` where there is a translation. Import the file back with `PUT` on the same
/// address. Every reader of the version; integration clients need `questionnaires:read`.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = []), ("oauth2" = ["questionnaires:read"])),
    params(
        ("id" = QuestionnaireId, Path, description = "version id"),
        ("language" = String, Path, max_length = 35, description = "a BCP 47 language tag, such as `de` or `pt-BR`"),
        FileQuery,
    ),
    responses(
        (status = 200, description = "The file", headers(("Content-Disposition" = String, description = "`attachment; filename=\"{key}-v{version}.{language}.{csv|xlf}\"`")),
            content(
                (String = "text/csv; charset=utf-8", example = "\u{feff}key,en,de,max_chars\r\ntitle,Store visit,Ladenbesuch,200\r\nquestions.greeted.text,Were you greeted within a minute?,,1000\r\n"),
                (String = "application/xliff+xml"),
            )),
        (status = 400, description = "An unknown `format` (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client without `questionnaires:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version (drafts are visible to admins only)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a language tag, or the version's own language", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/questionnaires/{id}/translations/{language}/file")]
pub async fn export_translation(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(QuestionnaireId, String)>,
    query: web::Query<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let reader = reader(&auth)?;
    let (id, language) = path.into_inner();
    let format = match query.format.unwrap_or(TranslationFileFormat::Csv) {
        TranslationFileFormat::Csv => Format::Csv,
        TranslationFileFormat::Xliff => Format::Xliff,
    };
    let file = service::export(&state.db, auth.org_id, reader, id, language, format).await?;
    Ok(HttpResponse::Ok()
        .content_type(file.format.media_type())
        .insert_header(attachment(&file.name))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(file.bytes))
}

/// Import a translation from translators.
///
/// Replaces the version's translation into `language` with what a file gives, a file as
/// `GET` on this address exports it: CSV (`Content-Type: text/csv`; columns named by the
/// header in any order, `key` and the language required, the source language's column
/// compared with the version when present) or XLIFF 2.0 (`application/xliff+xml`; a unit's
/// key is its `name`). An empty translation leaves the text to the source. Nothing is
/// stored unless the whole file is right; the 422 lists every problem at its row
/// (`/rows/{n}/{column}`) or unit (`/units/{key}/target`): an unknown or repeated key, a
/// source text that is not the version's, an empty or too long text, a lost placeholder, a
/// wrong language, a malformed file. Recorded in the audit log; raises
/// `questionnaire.translation_changed`; counts towards the 50 translations of a version.
/// Admins only.
#[utoipa::path(
    tag = "questionnaires",
    security(("bearer" = [])),
    params(
        ("id" = QuestionnaireId, Path, description = "version id"),
        ("language" = String, Path, max_length = 35, description = "a BCP 47 language tag, such as `de` or `pt-BR`"),
    ),
    request_body(description = "The file (at most 5 MiB)", content(
        (String = "text/csv", example = "key,en,de\r\ntitle,Store visit,Ladenbesuch\r\n"),
        (String = "application/xliff+xml", example = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"en\" trgLang=\"de\">\n  <file id=\"f1\">\n    <unit id=\"t1\" name=\"title\">\n      <segment state=\"translated\">\n        <source>Store visit</source>\n        <target>Ladenbesuch</target>\n      </segment>\n    </unit>\n  </file>\n</xliff>\n"),
    )),
    responses(
        (status = 200, description = "The stored translation", body = TranslationResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version has 50 translations already (`too_many_translations`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A file over 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither `text/csv` nor `application/xliff+xml`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every problem of the file, each at its row or unit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/questionnaires/{id}/translations/{language}/file")]
pub async fn import_translation(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(QuestionnaireId, String)>,
    body: TypedBody,
) -> Result<web::Json<TranslationResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let format = body
        .media_type
        .as_deref()
        .and_then(Format::of_media_type)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the file as `Content-Type: text/csv` or `application/xliff+xml`",
            )
        })?;
    let (id, language) = path.into_inner();
    let file = body.bytes.to_vec();
    let stored = service::import(
        &state.db,
        auth.org_id,
        auth.actor(),
        id,
        language,
        format,
        file,
    )
    .await?;
    Ok(web::Json(stored))
}
