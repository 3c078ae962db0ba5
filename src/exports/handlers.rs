//! HTTP handlers of the report export.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use super::dto::{ExportLayout, ReportExportQuery};
use super::service::{self, Layout, ReportExport};
use crate::auth::AuthUser;
use crate::auth::model::Role;
use crate::db::reports::ReportFilter;
use crate::error::{ApiError, Problem};
use crate::questionnaires::language::canonical_tag;
use crate::reports::access::visibility;
use crate::state::AppState;
use crate::validation::Violation;

/// The value of `Content-Disposition` for a CSV download named `name`.
pub fn attachment(name: &str) -> (header::HeaderName, String) {
    (
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{name}\""),
    )
}

/// `text/csv` in UTF-8.
pub const CSV: &str = "text/csv; charset=utf-8";

/// Export reports as CSV.
///
/// The reports the caller may see (the same filters and visibility as `GET /reports`),
/// streamed as CSV (UTF-8, a header row): one row per report with its location, questionnaire
/// version, local visit date, status, overall / first-tier / second-tier scores, mile level,
/// critical failures, the language the shopper answered in and, with `questionnaire_key`, a
/// score column per section; or with `layout=answers` one row per answer (language,
/// section, question, value, N/A, points earned and possible, comment). Columns are named
/// by keys; `header_language` adds readers' labels in a language (a second header row of
/// section titles, or a `question_text` column). The shopper's identity and the staff
/// descriptions are never included, except for an admin who asks with
/// `include_personal=true`. Text cells that a spreadsheet
/// would evaluate (beginning with `=`, `+`, `-`, `@`, a tab or a carriage return) get a
/// leading apostrophe.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = []), ("oauth2" = ["reports:read"])),
    params(ReportExportQuery),
    responses(
        (status = 200, description = "The CSV, streamed", content_type = "text/csv; charset=utf-8", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"reports.csv\"`"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_personal` by a non-admin, or a client without `reports:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/exports/reports.csv")]
pub async fn export_reports(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ReportExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = visibility(&auth)?;
    let mut q = query.into_inner();
    let personal = q.include_personal.unwrap_or(false);
    if personal && auth.role() != Some(Role::Admin) {
        return Err(ApiError::forbidden(
            "only admins may export personal data (`include_personal`)",
        ));
    }
    // Every problem of the query at once: the filters' and the header language's.
    let language = q
        .header_language
        .as_deref()
        .map(canonical_tag)
        .transpose()
        .map_err(|message| Violation::new("/query/header_language", "invalid_language", message));
    let (filter, language) = match (ReportFilter::try_from(q.filter_params()), language) {
        (Ok(filter), Ok(language)) => (filter, language),
        (filter, language) => {
            let mut found = filter.err().unwrap_or_default();
            found.extend(language.err());
            return Err(ApiError::invalid_query(found));
        }
    };
    let layout = match q.layout.unwrap_or(ExportLayout::Reports) {
        ExportLayout::Reports => Layout::Reports,
        ExportLayout::Answers => Layout::Answers,
    };
    let sections = match (&filter.questionnaire_key, layout) {
        (Some(key), Layout::Reports) => {
            service::section_keys(&state.db, auth.org_id, key.clone()).await?
        }
        _ => Vec::new(),
    };
    let wording = match language {
        Some(language) => {
            let key = filter.questionnaire_key.clone();
            Some(service::wording_in(&state.db, auth.org_id, key, language).await?)
        }
        None => None,
    };
    let export = ReportExport {
        org: auth.org_id,
        scope,
        filter,
        layout,
        personal,
    };
    Ok(HttpResponse::Ok()
        .content_type(CSV)
        .insert_header(attachment(layout.file_name()))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .streaming(service::report_csv(
            state.db.clone(),
            export,
            sections,
            wording,
        )))
}
