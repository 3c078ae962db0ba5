//! `/api/v1/aggregates/changes` and `/api/v1/locations/{id}/changes`: what changed between
//! two periods and whether it is real; `/api/v1/aggregates/drivers`: what to train.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;

use super::as_of::{answer, dated};
use super::changes::{self, Order};
use super::compare::Comparison;
use super::drivers::{self, Driver, Lift, Subject};
use super::handlers::{coverage, range, reader};
use super::insight_dto::{
    ChangesQuery, ChangesResponse, CompareWith, DriversQuery, DriversResponse, HeadingName,
    LocationChangeRow, LocationChangesQuery, LocationChangesResponse, MeasureName, PeersResponse,
    PeriodResponse, QuestionDriver, ThinQuestion,
};
use super::service::{AggregateError, Range};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::ids::LocationId;
use crate::pagination::{PageRequest, is_memory_key};
use crate::questionnaires::handlers::wanted_languages;
use crate::state::AppState;
use crate::validation::{Violation, Violations};

/// The most locations `location_ids` may name.
const MAX_LISTED_LOCATIONS: usize = 100;

/// The locations `location_ids` names (comma-separated ids), every bad id listed.
fn location_ids(raw: Option<&str>) -> Result<Option<HashSet<LocationId>>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let mut violations = Violations::default();
    if raw.len() > 3700 {
        violations.push("/query/location_ids", "too_long", "at most 3700 characters");
    }
    let parts: Vec<&str> = raw.split(',').map(str::trim).collect();
    if parts.len() > MAX_LISTED_LOCATIONS {
        violations.push(
            "/query/location_ids",
            "too_many",
            format!("at most {MAX_LISTED_LOCATIONS} location ids"),
        );
    }
    let mut ids = HashSet::new();
    for part in parts.iter().take(MAX_LISTED_LOCATIONS) {
        match part.parse::<LocationId>() {
            Ok(id) => {
                ids.insert(id);
            }
            Err(_) => violations.push(
                "/query/location_ids",
                "invalid_value",
                format!(
                    "`{}` is not a location id",
                    part.chars().take(40).collect::<String>()
                ),
            ),
        }
    }
    violations
        .into_result(Some(ids))
        .map_err(ApiError::invalid_query)
}

/// The comparison asked for: `compare` and the dates that go with `compare=dates` only.
fn comparison(
    compare: Option<CompareWith>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Comparison, Vec<Violation>> {
    let dated = from.is_some() || to.is_some();
    let mut violations = Violations::default();
    match compare {
        Some(CompareWith::Previous | CompareWith::YearAgo) if dated => {
            for (pointer, given) in [("/query/compare_from", from), ("/query/compare_to", to)] {
                if given.is_some() {
                    violations.push(
                        pointer,
                        "conflicting_parameters",
                        "comparison dates go with `compare=dates` only",
                    );
                }
            }
        }
        Some(CompareWith::Dates) | None if dated || compare.is_some() => {
            for (pointer, given) in [("/query/compare_from", from), ("/query/compare_to", to)] {
                if given.is_none() {
                    violations.push(
                        pointer,
                        "required",
                        "`compare=dates` needs `compare_from` and `compare_to`",
                    );
                }
            }
        }
        _ => {}
    }
    let comparison = match (compare, from, to) {
        (Some(CompareWith::YearAgo), _, _) => Comparison::YearAgo,
        (_, Some(from), Some(to)) => Comparison::Dates { from, to },
        _ => Comparison::Previous,
    };
    violations.into_result(comparison)
}

/// The range and the period it is compared with, every problem of both listed at once.
fn periods(
    state: &AppState,
    q: (Option<NaiveDate>, Option<NaiveDate>, Option<String>),
    compare: Option<CompareWith>,
    compare_from: Option<NaiveDate>,
    compare_to: Option<NaiveDate>,
) -> Result<(Range, (NaiveDate, NaiveDate)), ApiError> {
    let compared = comparison(compare, compare_from, compare_to);
    match (range(state, q.0, q.1, q.2), compared) {
        (Ok(range), Ok(comparison)) => {
            let earlier = changes::earlier_of(&range, comparison)?;
            Ok((range, earlier))
        }
        (Err(AggregateError::Invalid(mut found)), compared) => {
            found.extend(compared.err().unwrap_or_default());
            Err(ApiError::invalid_query(found))
        }
        (Err(other), _) => Err(other.into()),
        (Ok(_), Err(found)) => Err(ApiError::invalid_query(found)),
    }
}

/// What changed, per location, region and organization.
///
/// For a range (default: the last 90 days) and a comparison period (`compare=previous`, the
/// same number of days just before it, by default; `year_ago`; or `compare_from` and
/// `compare_to`), both periods' figures and how each measure moved: the mean score (the
/// difference in points with Welch's 95 % interval) and the zero-mile, second-mile and
/// critical-failure rates (differences of proportions with Newcombe's hybrid score
/// interval), each `significant` when its interval leaves out zero. A period with fewer
/// visits than the verdict's minimum sample is `low_sample` and nothing in it is called
/// significant. The organization (the covered locations together) and every region come
/// whole; the locations come in pages, the largest significant move of `measure` in
/// `direction` first (default: the largest significant decline of the mean score), then the
/// other moves, largest first, then the locations with nothing to compare. Each location
/// lists the verdict changes its visits of the range made. Managers: their own locations.
#[utoipa::path(
    operation_id = "list_changes",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), ChangesQuery),
    responses(
        (status = 200, description = "The organization, its regions and a page of its locations", body = ChangesResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`, every problem listed): a bad range, a comparison period that overlaps it, dates without `compare=dates`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/changes")]
pub async fn list_changes(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let q = query.into_inner();
    let order = Order {
        measure: q.measure.unwrap_or(MeasureName::MeanScore).into(),
        heading: q.direction.unwrap_or(HeadingName::Decline).into(),
    };
    let prefix = format!("{}:", order.prefix());
    let page = PageRequest::parse_with(q.limit, q.cursor.as_deref(), |k| {
        is_memory_key(k) && k.starts_with(&prefix)
    })?;
    let listed_only = location_ids(q.location_ids.as_deref())?;
    let covered = coverage(manager, q.region, q.tag)?;
    let (range, earlier) = periods(
        &state,
        (q.from, q.to, q.questionnaire_key),
        q.compare,
        q.compare_from,
        q.compare_to,
    )?;
    let (report, as_of) = dated(&state.db, auth.org_id, async || {
        Ok(changes::changes(
            &state.db,
            auth.org_id,
            covered.clone(),
            range.clone(),
            earlier,
            order,
            state.reports.verdict,
        )
        .await?)
    })
    .await?;
    let only_significant = q.only_significant.unwrap_or(false);
    let rows = report
        .locations
        .into_iter()
        .filter(|(key, r)| {
            page.after_key(key)
                && (!only_significant || order.significant(&r.movement))
                && listed_only
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&r.location.id))
        })
        .take(page.fetch() as usize)
        .collect();
    let listed = page.page(
        rows,
        |(key, _)| key.clone(),
        |(_, r)| {
            let significant = order.significant(&r.movement);
            LocationChangeRow::new(r, significant)
        },
    );
    let body = ChangesResponse {
        range: report.range.into(),
        compared_with: PeriodResponse {
            from: report.earlier.0,
            to: report.earlier.1,
        },
        organization: report.organization.into(),
        regions: report.regions.into_iter().map(Into::into).collect(),
        items: listed.items,
        next_cursor: listed.next_cursor,
        has_more: listed.has_more,
        as_of: String::new(),
    };
    Ok(answer(&req, as_of, body))
}

/// What changed at one location.
///
/// The location's figures over the range and the comparison period (as in
/// `GET /aggregates/changes`), how each measure moved with its interval and significance,
/// and the verdict changes its visits of the range made. Managers: their own locations.
#[utoipa::path(
    operation_id = "get_location_changes",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), ("id" = String, Path, format = Uuid, description = "location id"), LocationChangesQuery),
    responses(
        (status = 200, description = "The location's movement", body = LocationChangesResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`, every problem listed)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/locations/{id}/changes")]
pub async fn get_location_changes(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
    query: web::Query<LocationChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let q = query.into_inner();
    let (range, earlier) = periods(
        &state,
        (q.from, q.to, q.questionnaire_key),
        q.compare,
        q.compare_from,
        q.compare_to,
    )?;
    let id = id.into_inner();
    let ((location, movement, shifts), as_of) = dated(&state.db, auth.org_id, async || {
        Ok(changes::location_changes(
            &state.db,
            auth.org_id,
            manager,
            id,
            range.clone(),
            earlier,
            state.reports.verdict,
        )
        .await?)
    })
    .await?;
    let body = LocationChangesResponse {
        location: (&location).into(),
        range: range.into(),
        compared_with: PeriodResponse {
            from: earlier.0,
            to: earlier.1,
        },
        movement: movement.into(),
        verdict_changes: shifts.into_iter().map(Into::into).collect(),
        as_of: String::new(),
    };
    Ok(answer(&req, as_of, body))
}

/// The most `min_visits`, as documented.
const MAX_MIN_VISITS: u64 = 1_000_000;
/// The default `min_visits` of the drivers.
const DEFAULT_MIN_VISITS: u64 = 20;

/// What to train: the behaviours that separate the miles.
///
/// For one questionnaire (`questionnaire_key` is required: questions of different
/// questionnaires are never mixed) over the covered released visits (the organization, a
/// `region`, or one `location_id` beside its peers): each question's pass rate (a visit
/// passes a question when it earns the question's full points, so a question expecting
/// "no" passes on "no") with Wilson's interval, and two rankings. **What keeps visits out
/// of the zero mile**: how much more often the visits that failed a question were zero mile
/// than those that passed it (a difference of rates with Newcombe's hybrid score interval),
/// and the share of the zero-mile visits that failed it. **What makes the second mile**: how
/// much more often the visits that passed it were second mile. Significant lifts rank
/// first. These are associations, not proof of cause. Questions counted in fewer than
/// `min_visits` visits are listed apart. Read from the per-question rollups. Managers: their
/// own locations, without peers. Question texts in the reader's language where the version
/// has it (`preferred_language`, else `Accept-Language`; else the source).
#[utoipa::path(
    operation_id = "get_drivers",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), DriversQuery),
    responses(
        (status = 200, description = "The questions ranked by what they separate", body = DriversResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid query (`invalid_query`, every problem listed), or no `questionnaire_key`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`location_id` names no location visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/drivers")]
pub async fn get_drivers(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<DriversQuery>,
) -> Result<HttpResponse, ApiError> {
    let manager = reader(&auth, &state)?;
    let q = query.into_inner();
    let mut violations = Vec::new();
    if q.questionnaire_key.as_deref().is_none_or(str::is_empty) {
        violations.push(Violation::new(
            "/query/questionnaire_key",
            "required",
            "name the questionnaire whose questions to compare",
        ));
    }
    let min_visits = q.min_visits.unwrap_or(DEFAULT_MIN_VISITS);
    if !(1..=MAX_MIN_VISITS).contains(&min_visits) {
        violations.push(Violation::new(
            "/query/min_visits",
            "out_of_range",
            format!("min_visits is from 1 to {MAX_MIN_VISITS}"),
        ));
    }
    let range = match range(&state, q.from, q.to, q.questionnaire_key) {
        Ok(range) if violations.is_empty() => range,
        Ok(_) => return Err(ApiError::invalid_query(violations)),
        Err(AggregateError::Invalid(found)) => {
            violations.extend(found);
            return Err(ApiError::invalid_query(violations));
        }
        Err(other) => return Err(other.into()),
    };
    let subject = Subject {
        coverage: coverage(manager, q.region, q.tag)?,
        location: q.location_id,
        with_peers: manager.is_none(),
    };
    let languages = wanted_languages(&state, &auth, None, &req).await?;
    let (found, as_of) = dated(&state.db, auth.org_id, async || {
        Ok(drivers::drivers(
            &state.db,
            auth.org_id,
            subject.clone(),
            range.clone(),
            min_visits,
            languages.clone(),
        )
        .await?)
    })
    .await?;
    let rank = |lift: fn(&Driver) -> Option<Lift>| {
        drivers::ranked(found.questions.clone(), lift)
            .into_iter()
            .map(QuestionDriver::from)
            .collect()
    };
    let body = DriversResponse {
        keeps_out_of_zero_mile: rank(|d| d.zero_mile),
        makes_second_mile: rank(|d| d.second_mile),
        location: found.location.as_ref().map(Into::into),
        peers: found
            .peers
            .map(|(region, locations)| PeersResponse { region, locations }),
        visits: found.visits,
        zero_mile_visits: found.zero_mile_visits,
        second_mile_visits: found.second_mile_visits,
        min_visits,
        too_few_visits: found
            .too_few
            .into_iter()
            .map(|(key, text, visits)| ThinQuestion { key, text, visits })
            .collect(),
        range: found.range.into(),
        as_of: String::new(),
    };
    Ok(answer(&req, as_of, body))
}
