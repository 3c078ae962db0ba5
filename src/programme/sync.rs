//! A shopper's app coming back online: everything it needs in one call (the published
//! questionnaires, the shopper's open assignments, those it may claim, the stores the rules
//! allow today, and the reports it sent that changed), with one cursor that makes the next
//! call answer `304 Not Modified` when nothing did.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::dto::{AssignmentResponse, EligibleLocation};
use super::handlers::shopper;
use super::mine::eligible_location;
use super::model::AssignmentStatus;
use super::service;
use crate::attachments::service as attachments;
use crate::auth::AuthUser;
use crate::db::reports::ReportFilter;
use crate::error::{ApiError, Problem};
use crate::pagination::{self, PageRequest};
use crate::questionnaires::dto::QuestionnaireResponse;
use crate::questionnaires::service as questionnaires;
use crate::reports::dto::ReportResponse;
use crate::reports::model::Visibility;
use crate::reports::service as reports;
use crate::state::AppState;
use crate::validation::Violation;

/// Most published questionnaire versions, assignments, claimable assignments, stores and
/// reports in one answer; past these the section says it is incomplete and the list
/// operations give the rest.
const MAX_QUESTIONNAIRES: i64 = 100;
const MAX_ASSIGNMENTS: usize = 200;
const MAX_CLAIMABLE: u32 = 50;
const MAX_LOCATIONS: i64 = 1000;
const MAX_REPORTS: i64 = 200;
/// Reports of the first sync: those changed in the last 90 days.
const FIRST_SYNC_DAYS: i64 = 90;
/// Reports changed this long before a sync are looked at again by the next one, so that a
/// report whose change committed while the sync read is never missed (the app replaces by
/// id); one the sync already saw does not count as a change.
const OVERLAP: TimeDelta = TimeDelta::seconds(5);
const CURSOR_PREFIX: &str = "sync1:";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// `cursor` of the previous sync (or send it as `If-None-Match`): `304` when nothing
    /// changed since, otherwise the reports that changed since then. Absent on the first
    /// sync.
    #[param(max_length = 2000)]
    pub since: Option<String>,
}

/// One section of a sync: its items, and whether they are all of them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SyncSection<T> {
    pub items: Vec<T>,
    /// `false` when the section was cut at its bound: read the rest from its list operation.
    pub complete: bool,
}

/// Everything a shopper's app needs after being offline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SyncResponse {
    /// Pass as `since` next time (it is also the `ETag`).
    pub cursor: String,
    /// When the server read this answer.
    pub synced_at: DateTime<Utc>,
    /// Every published questionnaire version, full (sections, questions, options), at most
    /// 100.
    pub questionnaires: SyncSection<QuestionnaireResponse>,
    /// The shopper's assignments still to do (assigned or accepted, window not ended), due
    /// first; at most 200 (`GET /me/assignments` has them all).
    pub assignments: SyncSection<AssignmentResponse>,
    /// Open assignments the shopper may claim, earliest deadline first; at most 50
    /// (`GET /me/claimable-assignments`).
    pub claimable: SyncSection<AssignmentResponse>,
    /// Active stores with whether the rules allow a visit today, by id; at most 1000
    /// (`GET /me/eligible-locations`).
    pub eligible_locations: SyncSection<EligibleLocation>,
    /// The shopper's reports changed since `since` (on a first sync, in the last 90 days),
    /// newest change first, with their status and the latest review note; at most 200 (`GET
    /// /reports?updated_since=` has the rest).
    pub reports: SyncSection<ReportResponse>,
}

/// Sync the shopper's app.
///
/// The app's start-up call when it comes back online: the published questionnaires (each in
/// the shopper's language: their `preferred_language`, else `Accept-Language`), the
/// shopper's assignments and claimable ones, the stores the rules allow today, and the
/// reports it sent that changed since the last sync (their status, score and review note),
/// with a `cursor` to pass as `since` next time. When nothing changed since that cursor the
/// answer is `304 Not Modified` with no body; the same cursor sent as `If-None-Match` does
/// the same. Shoppers only.
#[utoipa::path(
    operation_id = "sync_my_app",
    tag = "programme",
    security(("bearer" = [])),
    params(SyncQuery, ("If-None-Match" = Option<String>, Header, description = "The `ETag` of the previous sync"),
        ("Accept-Language" = Option<String>, Header, description = "the languages the shopper reads, most wanted first")),
    responses(
        (status = 200, description = "What changed, with the cursor of this sync", body = SyncResponse,
            headers(("ETag" = String, description = "The cursor, quoted"))),
        (status = 304, description = "Nothing changed since `since` (or `If-None-Match`)",
            headers(("ETag" = String, description = "The cursor, quoted"))),
        (status = 400, description = "`since` is not a cursor this server gave (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a shopper", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/sync")]
pub async fn sync(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<SyncQuery>,
) -> Result<HttpResponse, ApiError> {
    let me = shopper(&auth)?;
    // The cursor as the client holds it (echoed on a 304), and what it says.
    let (held, since) = match query.into_inner().since {
        Some(cursor) => {
            let since = Since::parse(&cursor).ok_or_else(|| {
                ApiError::invalid_query(vec![Violation::new(
                    "/query/since",
                    "invalid_cursor",
                    "since is not a cursor this server gave",
                )])
            })?;
            (Some(cursor), Some(since))
        }
        None => {
            let tag = req
                .headers()
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.trim()
                        .trim_start_matches("W/")
                        .trim_matches('"')
                        .to_string()
                });
            let since = tag.as_deref().and_then(Since::parse);
            (tag.filter(|_| since.is_some()), since)
        }
    };
    let now = state.db.now();
    let db = &state.db;
    let org = auth.org_id;

    // Each in the shopper's language: their preferred one, else Accept-Language.
    let wanted =
        crate::questionnaires::handlers::wanted_languages(&state, &auth, None, &req).await?;
    let mut published = questionnaires::published(db, org, MAX_QUESTIONNAIRES + 1).await?;
    let complete = published.len() <= MAX_QUESTIONNAIRES as usize;
    published.truncate(MAX_QUESTIONNAIRES as usize);
    let questionnaires = SyncSection {
        complete,
        items: crate::questionnaires::translations::all_in(db, org, published, wanted)
            .await?
            .into_iter()
            .map(|(q, language)| {
                let mut answer = QuestionnaireResponse::from(q);
                answer.language = language;
                answer
            })
            .collect(),
    };

    let mut mine = service::my_assignments(db, org, me, None, now).await?;
    mine.retain(|(a, _)| {
        matches!(
            a.status_at(now),
            AssignmentStatus::Assigned | AssignmentStatus::Accepted
        )
    });
    mine.sort_by_cached_key(|(a, _)| a.to_do_order(now));
    let assignments = SyncSection {
        complete: mine.len() <= MAX_ASSIGNMENTS,
        items: mine
            .into_iter()
            .take(MAX_ASSIGNMENTS)
            .map(|(a, key)| AssignmentResponse::new(a, key, now))
            .collect(),
    };

    let page = PageRequest {
        limit: MAX_CLAIMABLE,
        after: None,
    };
    let open = service::claimable(db, org, me, now, page).await?;
    let claimable = SyncSection {
        complete: open.len() <= MAX_CLAIMABLE as usize,
        items: open
            .into_iter()
            .take(MAX_CLAIMABLE as usize)
            .map(|(a, key)| AssignmentResponse::new(a, key, now))
            .collect(),
    };

    let stores =
        service::eligible_locations(db, org, me, None, None, MAX_LOCATIONS + 1, now).await?;
    let eligible_locations = SyncSection {
        complete: stores.len() <= MAX_LOCATIONS as usize,
        items: stores
            .into_iter()
            .take(MAX_LOCATIONS as usize)
            .map(eligible_location)
            .collect(),
    };

    // What changed among the bounded sections: compared with the cursor's digest.
    let digest = digest(
        &questionnaires,
        &assignments,
        &claimable,
        &eligible_locations,
    );
    let changed_since = match &since {
        Some(s) => s.read_at - OVERLAP,
        None => now - TimeDelta::days(FIRST_SYNC_DAYS),
    };
    let filter = ReportFilter {
        updated_since: Some(changed_since),
        ..ReportFilter::default()
    };
    let (rows, notes, view) = reports::list_visible(
        db,
        org,
        Visibility::Own(me),
        filter,
        crate::db::reports::Listing::Created {
            after: None,
            newest_first: true,
        },
        MAX_REPORTS + 1,
    )
    .await?;
    // Nothing changed: the same sections, no report changed since the previous read, and
    // the reports of the overlap before it are those that read saw (none committed late).
    if let (Some(held), Some(since)) = (&held, &since)
        && since.digest == digest
        && rows.iter().all(|r| r.updated_at <= since.read_at)
        && recent(&rows, since.read_at) == since.recent
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(held)))
            .finish());
    }
    let complete = rows.len() <= MAX_REPORTS as usize;
    let rows: Vec<_> = rows.into_iter().take(MAX_REPORTS as usize).collect();
    let seen_recently = recent(&rows, now);
    let ids = rows.iter().map(|r| r.id).collect();
    let received = attachments::received_for(db, org, ids).await?;
    let items = rows
        .into_iter()
        .map(|r| ReportResponse::listed(r, view, &notes, &received))
        .collect();
    let this = Since {
        read_at: now,
        digest,
        recent: seen_recently,
    };
    let cursor = this.encode();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&cursor)))
        .json(SyncResponse {
            cursor,
            synced_at: now,
            questionnaires,
            assignments,
            claimable,
            eligible_locations,
            reports: SyncSection { items, complete },
        }))
}

/// What a sync cursor holds: when the sync read, the digest of its bounded sections, and the
/// digest of the reports it saw change in the overlap before that read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Since {
    read_at: DateTime<Utc>,
    digest: String,
    recent: String,
}

impl Since {
    fn encode(&self) -> String {
        pagination::encode(&format!(
            "{CURSOR_PREFIX}{}:{}:{}",
            self.read_at.timestamp_micros(),
            self.digest,
            self.recent
        ))
    }

    fn parse(cursor: &str) -> Option<Since> {
        let key = pagination::decode(cursor)?;
        let mut parts = key.strip_prefix(CURSOR_PREFIX)?.split(':');
        let micros = parts.next()?.parse().ok()?;
        let digest = parts.next()?.to_string();
        let recent = parts.next()?.to_string();
        Some(Since {
            read_at: DateTime::from_timestamp_micros(micros)?,
            digest,
            recent,
        })
    }
}

/// SHA-256 of the reports (id and time of change) changed in the overlap before `read_at`.
fn recent(rows: &[crate::reports::model::Report], read_at: DateTime<Utc>) -> String {
    let mut seen: Vec<(String, i64)> = rows
        .iter()
        .filter(|r| r.updated_at >= read_at - OVERLAP && r.updated_at <= read_at)
        .map(|r| (r.id.to_string(), r.updated_at.timestamp_micros()))
        .collect();
    seen.sort();
    let mut hash = Sha256::new();
    for (id, at) in seen {
        hash.update(format!("{id}@{at};"));
    }
    hex(&hash.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cursor as an entity tag (base64url: always a valid header value).
fn etag(cursor: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{cursor}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// SHA-256 of the bounded sections as they are answered.
fn digest(
    questionnaires: &SyncSection<QuestionnaireResponse>,
    assignments: &SyncSection<AssignmentResponse>,
    claimable: &SyncSection<AssignmentResponse>,
    locations: &SyncSection<EligibleLocation>,
) -> String {
    let mut hash = Sha256::new();
    for part in [
        serde_json::to_vec(questionnaires),
        serde_json::to_vec(assignments),
        serde_json::to_vec(claimable),
        serde_json::to_vec(locations),
    ] {
        hash.update(part.unwrap_or_default());
        hash.update([0]);
    }
    hex(&hash.finalize())
}
