//! `/api/v1/locations/{id}/summary`, `/api/v1/aggregates/locations` and
//! `/api/v1/aggregates/overview`: figures of released visits, read from the rollups.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;

use super::as_of::{self, answer, dated};
use super::dto::{
    BucketBy, CoverageTrendQuery, CoverageTrendResponse, LeaderboardCsvQuery, LeaderboardQuery,
    LeaderboardRow, LocationSummaryResponse, OverviewQuery, OverviewResponse, QuestionRow,
    QuestionsQuery, QuestionsResponse, RangeQuery, RecognitionMoment, RecognitionQuery, RegionRow,
    RegionsQuery, RegionsResponse, SortBy, TrendBucketResponse, TrendQuery, TrendResponse,
};
use super::order::{self, Column, Direction};
use super::rebuilding;
use super::service::{self, AggregateError, Coverage, Range};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::exports::handlers as exports;
use crate::exports::rows;
use crate::exports::service as exports_service;
use crate::ids::{LocationId, UserId};
use crate::locations::model::parse_tag;
use crate::pagination::{Page, PageRequest};
use crate::query::Region;
use crate::questionnaires::handlers::wanted_languages;
use crate::state::AppState;
use crate::validation::{Violation, Violations};

impl From<AggregateError> for ApiError {
    fn from(e: AggregateError) -> Self {
        match e {
            AggregateError::Invalid(violations) => ApiError::invalid_query(violations),
            AggregateError::NotFound => ApiError::not_found(),
            AggregateError::Db(e) => e.into(),
        }
    }
}

/// Largest `min_visits`, as documented.
const MAX_MIN_VISITS: u64 = 1_000_000;

/// HQ roles and clients with `aggregates:read`; managers for their own locations (the
/// returned id). Shoppers: 403. While the rollups are rebuilt: 503 with `Retry-After`.
pub(super) fn reader(auth: &AuthUser, state: &AppState) -> Result<Option<UserId>, ApiError> {
    auth.require_role_or_scope(
        &[Role::Admin, Role::Reviewer, Role::Analyst, Role::Manager],
        Scope::AggregatesRead,
    )?;
    if state.rollups.is_on() {
        return Err(ApiError::unavailable(
            ErrorCode::RollupsRebuilding,
            "the figures are being rebuilt from the released reports; retry shortly",
        )
        .with_header(
            actix_web::http::header::RETRY_AFTER,
            &rebuilding::RETRY_AFTER_SECS.to_string(),
        ));
    }
    Ok(match auth.role() {
        Some(Role::Manager) => auth.user_id(),
        _ => None,
    })
}

/// The asked range, whose default ends today on the application's clock.
pub(super) fn range(
    state: &AppState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    questionnaire_key: Option<String>,
) -> Result<Range, AggregateError> {
    Range::parse(from, to, questionnaire_key, state.db.now().date_naive())
}

pub(super) fn coverage(
    manager: Option<UserId>,
    region: Option<String>,
    tag: Option<String>,
) -> Result<Coverage, ApiError> {
    let mut violations = Violations::default();
    let tag = violations.take(
        tag.as_deref()
            .map(parse_tag)
            .transpose()
            .map_err(|message| Violation::new("/query/tag", "invalid_value", message)),
    );
    let region = violations.take(Region::parse(region));
    violations
        .into_result(Coverage {
            region: region.map(Region::into_string),
            tag,
            manager,
        })
        .map_err(ApiError::invalid_query)
}

/// Summary of one location.
///
/// The location's figures over a range of local visit dates (default: the last 90 days),
/// from its released (approved) reports: visits, score statistics with the 95 % interval of
/// the mean, the zero, first and second mile rates with their Wilson intervals, the verdict,
/// section means and the date of the last visit. Managers: their own locations only. Section
/// texts in the reader's language where the version has it (`preferred_language`, else
/// `Accept-Language`; else the source).
#[utoipa::path(
    operation_id = "get_location_summary",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), ("id" = String, Path, format = Uuid, description = "location id"), RangeQuery),
    responses(
        (status = 200, description = "The location's figures", body = LocationSummaryResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid range or key (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 404, description = "No such location visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/locations/{id}/summary")]
pub async fn location_summary(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let languages = wanted_languages(&state, &auth, None, &req).await?;
    let q = query.into_inner();
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let id = id.into_inner();
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let summary = service::location_summary(
            &state.db,
            auth.org_id,
            manager,
            id,
            range.clone(),
            state.reports.verdict,
            languages.clone(),
        )
        .await?;
        Ok(LocationSummaryResponse::of(summary, &state.reports.verdict))
    })
    .await?;
    Ok(answer(&req, as_of, body))
}

/// Leaderboard of locations.
///
/// One row per location with its figures and its rank (standard competition ranking: ties
/// share a rank, 1 2 2 4), best first by `sort`; `min_visits` leaves out thin samples;
/// `region` and `tag` narrow the locations. Managers see their own locations only.
#[utoipa::path(
    operation_id = "get_location_leaderboard",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), LeaderboardQuery),
    responses(
        (status = 200, description = "A page of the leaderboard", body = Page<LeaderboardRow>,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/locations")]
pub async fn location_leaderboard(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<LeaderboardQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let order = order_of(q.order_by, q.dir);
    let page = PageRequest::parse_with(q.limit, q.cursor.as_deref(), |k| {
        serde_json::from_str::<order::Cursor>(k).is_ok()
    })?;
    let cursor: Option<order::Cursor> = page
        .after
        .as_deref()
        .and_then(|k| serde_json::from_str(k).ok());
    if cursor.as_ref().is_some_and(|c| c.order != order) {
        return Err(ApiError::invalid_query(vec![Violation::new(
            "/query/cursor",
            "invalid_cursor",
            "the cursor belongs to another order_by or dir",
        )]));
    }
    let filters = LeaderboardCsvQuery {
        from: q.from,
        to: q.to,
        questionnaire_key: q.questionnaire_key,
        region: q.region,
        tag: q.tag,
        sort: q.sort,
        order_by: q.order_by,
        dir: q.dir,
        min_visits: q.min_visits,
        verdict: q.verdict,
    };
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let listed = order::sort(standings(&auth, &state, filters.clone()).await?, order);
        let start = order::after(&listed, order, cursor.as_ref().map(|c| &c.after));
        let rows: Vec<(order::Key, service::Standing)> = listed
            .into_iter()
            .skip(start)
            .take(page.fetch() as usize)
            .collect();
        Ok::<Page<LeaderboardRow>, ApiError>(page.page(
            rows,
            |(key, _)| {
                serde_json::to_string(&order::Cursor {
                    order,
                    after: key.clone(),
                })
                .unwrap_or_default()
            },
            |(_, standing)| standing.into(),
        ))
    })
    .await?;
    Ok(answer(&req, as_of, body))
}

fn order_of(by: Option<Column>, dir: Option<Direction>) -> order::Order {
    order::Order {
        by: by.unwrap_or(Column::Rank),
        descending: dir == Some(Direction::Desc),
    }
}

/// The leaderboard the caller may see with these filters, ranked (the JSON pages it, the CSV
/// gives it whole).
async fn standings(
    auth: &AuthUser,
    state: &AppState,
    q: LeaderboardCsvQuery,
) -> Result<Vec<service::Standing>, ApiError> {
    let manager = reader(auth, state)?;
    let min_visits = q.min_visits.unwrap_or(0);
    if min_visits > MAX_MIN_VISITS {
        return Err(ApiError::invalid_query(vec![Violation::new(
            "/query/min_visits",
            "out_of_range",
            format!("min_visits is at most {MAX_MIN_VISITS}"),
        )]));
    }
    let range = range(state, q.from, q.to, q.questionnaire_key)?;
    let mut rows = service::leaderboard(
        &state.db,
        auth.org_id,
        coverage(manager, q.region, q.tag)?,
        range,
        q.sort.unwrap_or(SortBy::MeanScore).into(),
        min_visits,
        state.reports.verdict,
    )
    .await?;
    // Ranks stay those of the whole board: a filtered row keeps its place among all.
    if let Some(verdict) = q.verdict {
        rows.retain(|r| r.figures.verdict == verdict);
    }
    Ok(rows)
}

/// Leaderboard of locations as CSV.
///
/// The whole leaderboard (the same filters, sort and `min_visits` as
/// `GET /aggregates/locations`, no pages) as CSV (UTF-8, a header row): rank, location code,
/// name and region, then the figures with their intervals flattened into columns
/// (`mean_ci95_low`, `zero_mile_rate`, ...), `low_sample` and `verdict`. Empty cells mean
/// `null`. Text cells a spreadsheet would evaluate get a leading apostrophe.
#[utoipa::path(
    operation_id = "export_location_leaderboard",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), LeaderboardCsvQuery),
    responses(
        (status = 200, description = "The leaderboard as CSV", content_type = "text/csv; charset=utf-8", body = String,
            headers(("ETag" = String, description = "a hash of the CSV: send it as `If-None-Match`"), ("As-Of" = String, description = "the cursor its figures are read at"), ("Content-Disposition" = String, description = "`attachment; filename=\"leaderboard.csv\"`"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/locations.csv")]
pub async fn location_leaderboard_csv(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<LeaderboardCsvQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let order = order_of(q.order_by, q.dir);
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let listed = order::sort(standings(&auth, &state, q.clone()).await?, order);
        let records = std::iter::once(rows::standing_header()).chain(
            listed
                .iter()
                .map(|(_, s)| rows::standing_record(s.rank, &s.location, &s.figures)),
        );
        exports_service::csv_bytes(records).map_err(ApiError::internal)
    })
    .await?;
    let etag = as_of::etag_of_bytes(&body);
    if crate::attachments::handlers::names(
        req.headers().get(actix_web::http::header::IF_NONE_MATCH),
        &etag,
        true,
    ) {
        return Ok(as_of::not_modified(etag, as_of));
    }
    Ok(HttpResponse::Ok()
        .content_type(exports::CSV)
        .insert_header(exports::attachment("leaderboard.csv"))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((actix_web::http::header::ETAG, etag))
        .insert_header((as_of::AS_OF, as_of.to_string()))
        .body(body))
}

/// Overview of the organization.
///
/// The figures of all covered locations' released visits together, how many locations got
/// each verdict, and the section means. `region` and `tag` narrow the locations; managers
/// see their own locations only. Section texts in the reader's language where the version
/// has it (`preferred_language`, else `Accept-Language`; else the source).
#[utoipa::path(
    operation_id = "get_overview",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), OverviewQuery),
    responses(
        (status = 200, description = "The organization's figures", body = OverviewResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/overview")]
pub async fn overview(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let languages = wanted_languages(&state, &auth, None, &req).await?;
    let q = query.into_inner();
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let covered = coverage(manager, q.region, q.tag)?;
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let overview = service::overview(
            &state.db,
            auth.org_id,
            covered.clone(),
            range.clone(),
            state.reports.verdict,
            languages.clone(),
        )
        .await?;
        Ok(OverviewResponse::of(overview, &state.reports.verdict))
    })
    .await?;
    Ok(answer(&req, as_of, body))
}

/// Trend of one location.
///
/// The location's figures bucket by bucket, in its local calendar: ISO weeks (Monday to
/// Sunday, the default) or months, each clipped to the range; buckets without a visit are
/// present with `visits: 0`. Managers: their own locations only.
#[utoipa::path(
    operation_id = "get_location_trend",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), ("id" = String, Path, format = Uuid, description = "location id"), TrendQuery),
    responses(
        (status = 200, description = "The location's buckets", body = TrendResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 404, description = "No such location visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/locations/{id}/trend")]
pub async fn location_trend(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
    query: web::Query<TrendQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let q = query.into_inner();
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let bucket = q.bucket.unwrap_or(BucketBy::Week);
    let id = id.into_inner();
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let (location, buckets) = service::trend(
            &state.db,
            auth.org_id,
            manager,
            id,
            range.clone(),
            bucket.into(),
            state.reports.verdict,
        )
        .await?;
        Ok(TrendResponse {
            location: (&location).into(),
            range: range.clone().into(),
            bucket,
            buckets: bucket_rows(buckets),
            as_of: String::new(),
        })
    })
    .await?;
    Ok(answer(&req, as_of, body))
}

/// Trend of the organization.
///
/// The covered locations' released visits together, bucket by bucket (ISO weeks from Monday,
/// or calendar months, each clipped to the range; empty buckets included), in one request:
/// the organization, a region (`region`), a tag, or a manager's own locations.
#[utoipa::path(
    operation_id = "get_organization_trend",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), CoverageTrendQuery),
    responses(
        (status = 200, description = "The buckets", body = CoverageTrendResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/trend")]
pub async fn coverage_trend(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<CoverageTrendQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let q = query.into_inner();
    let coverage = coverage(manager, q.region, q.tag)?;
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let bucket = q.bucket.unwrap_or(BucketBy::Week);
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let buckets = service::coverage_trend(
            &state.db,
            auth.org_id,
            coverage.clone(),
            range.clone(),
            bucket.into(),
            state.reports.verdict,
        )
        .await?;
        Ok(CoverageTrendResponse {
            range: range.clone().into(),
            bucket,
            buckets: bucket_rows(buckets),
            as_of: String::new(),
        })
    })
    .await?;
    Ok(answer(&req, as_of, body))
}

fn bucket_rows(buckets: Vec<service::TrendBucket>) -> Vec<TrendBucketResponse> {
    buckets
        .into_iter()
        .map(|b| TrendBucketResponse {
            start: b.start,
            end: b.end,
            figures: b.figures,
        })
        .collect()
}

/// Regions.
///
/// One row per region of the covered locations with their figures together and a rank
/// (ties share a rank), best first by `sort`. Managers: their own locations only.
#[utoipa::path(
    operation_id = "get_region_aggregates",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), RegionsQuery),
    responses(
        (status = 200, description = "One row per region", body = RegionsResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/regions")]
pub async fn region_aggregates(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<RegionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let q = query.into_inner();
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let covered = coverage(manager, None, q.tag)?;
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let items = service::regions(
            &state.db,
            auth.org_id,
            covered.clone(),
            range.clone(),
            q.sort.unwrap_or(SortBy::MeanScore).into(),
            state.reports.verdict,
        )
        .await?;
        Ok(RegionsResponse {
            range: range.clone().into(),
            items: items
                .into_iter()
                .map(|r| RegionRow {
                    rank: r.rank,
                    region: r.region,
                    locations: r.locations,
                    figures: r.figures,
                })
                .collect(),
            as_of: String::new(),
        })
    })
    .await?;
    Ok(answer(&req, as_of, body))
}

/// Questions.
///
/// Per question key over the covered released visits: how often it counted, how often it
/// earned all its points (with the Wilson 95 % interval) and the share of its points earned.
/// `location_id` narrows to one location. Managers: their own locations only. Question
/// texts in the reader's language where the version has it (`preferred_language`, else
/// `Accept-Language`; else the source).
#[utoipa::path(
    operation_id = "get_question_aggregates",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), QuestionsQuery),
    responses(
        (status = 200, description = "One row per question key", body = QuestionsResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 404, description = "`location_id` names no location visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/aggregates/questions")]
pub async fn question_aggregates(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<QuestionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let languages = wanted_languages(&state, &auth, None, &req).await?;
    let q = query.into_inner();
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let covered = coverage(manager, q.region, q.tag)?;
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let items = service::questions(
            &state.db,
            auth.org_id,
            covered.clone(),
            q.location_id,
            range.clone(),
            languages.clone(),
        )
        .await?;
        Ok(QuestionsResponse {
            range: range.clone().into(),
            items: items
                .into_iter()
                .map(|q| QuestionRow {
                    key: q.key,
                    text: q.text,
                    n: q.n,
                    full_points: q.full_points,
                    mean_points: q.mean_points,
                })
                .collect(),
            as_of: String::new(),
        })
    })
    .await?;
    Ok(answer(&req, as_of, body))
}

/// The recognition feed: released second-mile visits, newest first.
///
/// Each visit where staff went beyond expectations, with its location and local date, the
/// second-tier behaviours that were met (the questions' texts) and the shopper's own words
/// about them (their comments, and the answer to the questionnaire's `highlights` question):
/// the material to acknowledge and reward those employees. The shopper is never named, and
/// staff descriptions are not shown. Filters: range (default the last 90 days), location,
/// region, questionnaire key. Managers see their locations only. Same roles as the other
/// aggregates. Behaviours' texts in the reader's language where the version has it
/// (`preferred_language`, else `Accept-Language`; else the source).
#[utoipa::path(
    operation_id = "list_recognition_moments",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), RecognitionQuery),
    responses(
        (status = 200, description = "A page of moments, newest first", body = Page<RecognitionMoment>,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`, every problem listed)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/recognition")]
pub async fn recognition(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<RecognitionQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let q = query.into_inner();
    let covered = coverage(manager, q.region, None)?;
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let page = PageRequest::parse_with(q.limit, q.cursor.as_deref(), |k| {
        crate::reports::handlers::parse_cursor(k).is_some()
    })?;
    let after = page
        .after
        .as_deref()
        .and_then(crate::reports::handlers::parse_cursor);
    let filter = super::recognition::RecognitionFilter {
        location: q.location_id,
        region: covered.region,
        manager,
        languages: wanted_languages(&state, &auth, None, &req).await?,
    };
    let (body, as_of) = dated(&state.db, auth.org_id, async || {
        let moments = super::recognition::moments(
            &state.db,
            auth.org_id,
            filter.clone(),
            range.clone(),
            after.clone(),
            page.fetch(),
        )
        .await?;
        Ok::<Page<RecognitionMoment>, ApiError>(page.page(
            moments,
            |m| crate::reports::handlers::cursor_key(&m.report),
            RecognitionMoment::from,
        ))
    })
    .await?;
    Ok(answer(&req, as_of, body))
}
