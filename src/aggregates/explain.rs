//! Why a location's figures changed: the figures as of an earlier answer's cursor are the
//! figures now with the moves numbered since undone, and replaying the moves in order from
//! there gives each one's effect (see [`super::moves`]).

use actix_web::http::StatusCode;

use super::as_of::dated;
use super::moves::{self, Effect, FigureMove, Sums};
use super::service::{Range, visible_location};
use crate::db::aggregates::{self as store, Parts, Scope};
use crate::db::figure_moves::{self as moves_store, Filter};
use crate::db::{Db, DbError, events as event_store};
use crate::error::{ApiError, ErrorCode};
use crate::ids::{LocationId, OrgId, UserId};
use crate::locations::model::Location;
use crate::validation::Violation;

/// The most changes one answer lists.
pub const MAX_CHANGES: usize = 10_000;

/// A location's figures then and now, and what moved them.
pub struct Explained {
    pub location: Location,
    pub range: Range,
    pub since: i64,
    pub as_of: i64,
    pub then: Sums,
    pub now: Sums,
    /// Each move with its event's number and its effect, in event order.
    pub changes: Vec<(i64, FigureMove, Effect)>,
}

fn invalid_since(message: String) -> ApiError {
    ApiError::invalid_query(vec![Violation::new(
        "/query/since",
        "invalid_value",
        message,
    )])
}

/// The location `id` if the caller may see it.
pub async fn location(
    db: &Db,
    org: OrgId,
    manager: Option<UserId>,
    id: LocationId,
) -> Result<Location, ApiError> {
    Ok(db
        .run(move |conn| visible_location(conn, org, manager, id))
        .await?)
}

/// The cursor `since` as given: digits only.
pub fn parse_since(raw: Option<&str>) -> Result<i64, Violation> {
    let raw = raw.ok_or_else(|| {
        Violation::new(
            "/query/since",
            "required",
            "give the as_of of the answer to compare with",
        )
    })?;
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0 && raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            Violation::new(
                "/query/since",
                "invalid_value",
                "since is an as_of: digits only",
            )
        })
}

/// What moved `location`'s figures (the caller may see it: [`location`]) over `range` after
/// cursor `since`.
pub async fn figure_changes(
    db: &Db,
    location: Location,
    range: Range,
    since: i64,
) -> Result<Explained, ApiError> {
    let (org, id) = (location.org_id, location.id);
    let (pruned_through, last) = db
        .run(move |conn| Ok::<_, DbError>(event_store::bounds(conn, org)?))
        .await?;
    if since > last {
        return Err(invalid_since(format!(
            "since is after the organization's latest event ({last})"
        )));
    }
    if since < pruned_through {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::EventsPruned,
            format!(
                "the events up to {pruned_through} were deleted after the retention period; \
                 changes since {since} can no longer be listed"
            ),
        ));
    }
    let scope = Scope {
        org,
        locations: Some(vec![id]),
        questionnaire_key: range.questionnaire_key.clone(),
    };
    let (from, to) = (range.from, range.to);
    let (now, as_of) = dated(db, org, async || {
        let scope = scope.clone();
        Ok(db
            .run(move |conn| {
                let tally = store::per_location(conn, &scope, from, to, Parts::default())?
                    .remove(&id)
                    .unwrap_or_default()
                    .tally;
                Ok::<_, DbError>(Sums::of(&tally))
            })
            .await?)
    })
    .await?;
    let filter = Filter {
        org,
        location: id,
        from,
        to,
        questionnaire_key: range.questionnaire_key.clone(),
    };
    let numbered = db
        .run(move |conn| {
            Ok::<_, DbError>(moves_store::numbered_between(conn, &filter, since, as_of)?)
        })
        .await?;
    if numbered.len() > MAX_CHANGES {
        return Err(invalid_since(format!(
            "more than {MAX_CHANGES} changes since {since}; ask with a later as_of"
        )));
    }
    let plain: Vec<FigureMove> = numbered.iter().map(|(_, m)| m.clone()).collect();
    let (then, effects) = moves::explain(now, &plain);
    let changes = numbered
        .into_iter()
        .zip(effects)
        .map(|((seq, m), e)| (seq, m, e))
        .collect();
    Ok(Explained {
        location,
        range,
        since,
        as_of,
        then,
        now,
        changes,
    })
}
