//! What other reports show about a new one (see `reports::plausibility`): the durations of
//! the questionnaire's visits, the narratives that share a band with its own, the shopper's
//! visits near in time, and its photos' offsets.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{attachments, locations, narrative_bands, reports};
use crate::ids::{AttachmentId, OrgId, ReportId, UserId};
use crate::reports::model::{ReportDocument, ReportStatus};
use crate::reports::plausibility::{self as pl, Neighbour, PhotoOffsets, Similar};

/// How many of the questionnaire's latest visits a duration is judged against.
const DURATION_SAMPLE: i64 = 500;
/// How many candidate narratives are compared at most.
const NARRATIVE_CANDIDATES: i64 = 200;

/// The durations (seconds) of the organization's latest visits with questionnaire `key`,
/// but for `report` and rejected ones.
pub fn durations(
    conn: &mut DbConn,
    org: OrgId,
    key: &str,
    report: ReportId,
) -> QueryResult<Vec<i64>> {
    let rows: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::questionnaire_key.eq(key))
        .filter(reports::id.ne(report))
        .filter(reports::status.ne(ReportStatus::Rejected))
        .filter(reports::visit_ended_at.is_not_null())
        .order(reports::visit_started_at.desc())
        .select((reports::visit_started_at, reports::visit_ended_at))
        .limit(DURATION_SAMPLE)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(start, end)| Some((end? - start).num_seconds()))
        .collect())
}

/// The earlier narrative most like `signature` (of the last [`pl::NARRATIVE_DAYS`] before
/// `at`), when it reaches [`pl::NARRATIVE_JACCARD`].
pub fn similar(
    conn: &mut DbConn,
    org: OrgId,
    report: ReportId,
    shopper: UserId,
    signature: &[u64],
    at: DateTime<Utc>,
) -> QueryResult<Option<Similar>> {
    let since = (at - TimeDelta::days(pl::NARRATIVE_DAYS)).naive_utc();
    let candidates: Vec<ReportId> = narrative_bands::table
        .filter(narrative_bands::org_id.eq(org))
        .filter(narrative_bands::band.eq_any(pl::bands(signature)))
        .filter(narrative_bands::visit_started_at.ge(since))
        .filter(narrative_bands::report_id.ne(report))
        .select(narrative_bands::report_id)
        .distinct()
        .limit(NARRATIVE_CANDIDATES)
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(None);
    }
    let rows: Vec<(ReportId, UserId, Option<String>)> = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::id.eq_any(candidates))
        .select((
            reports::id,
            reports::shopper_id,
            reports::narrative_signature,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, by, sig)| {
            let jaccard = pl::jaccard(signature, &pl::decode(&sig?)?);
            Some(Similar {
                report: id,
                same_shopper: by == shopper,
                jaccard,
            })
        })
        .filter(|s| s.jaccard >= pl::NARRATIVE_JACCARD)
        .max_by(|a, b| a.jaccard.total_cmp(&b.jaccard)))
}

/// The shopper's other visits (not rejected) within [`pl::TRAVEL_WINDOW_HOURS`] of this one,
/// at locations with coordinates.
pub fn neighbours(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    report: ReportId,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
) -> QueryResult<Vec<Neighbour>> {
    let window = TimeDelta::hours(pl::TRAVEL_WINDOW_HOURS);
    type Row = (
        ReportId,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<Row> = reports::table
        .inner_join(
            locations::table.on(locations::org_id
                .eq(reports::org_id)
                .and(locations::id.eq(reports::location_id))),
        )
        .filter(reports::org_id.eq(org))
        .filter(reports::shopper_id.eq(shopper))
        .filter(reports::id.ne(report))
        .filter(reports::status.ne(ReportStatus::Rejected))
        .filter(reports::visit_started_at.ge((started - window).naive_utc()))
        .filter(reports::visit_started_at.le((ended + window).naive_utc()))
        .select((
            reports::id,
            reports::visit_started_at,
            reports::visit_ended_at,
            locations::latitude,
            locations::longitude,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, start, end, lat, lon)| {
            Some(Neighbour {
                report: id,
                started: start.and_utc(),
                ended: end?.and_utc(),
                lat: lat?,
                lon: lon?,
            })
        })
        .collect())
}

/// The offsets of the report's photos that had a capture time or place.
pub fn photo_offsets(
    conn: &mut DbConn,
    org: OrgId,
    report: ReportId,
) -> QueryResult<Vec<PhotoOffsets>> {
    let rows: Vec<(Option<i32>, Option<i32>)> = attachments::table
        .filter(attachments::org_id.eq(org))
        .filter(attachments::report_id.eq(report))
        .filter(
            attachments::capture_minutes_off
                .is_not_null()
                .or(attachments::capture_metres_off.is_not_null()),
        )
        .select((
            attachments::capture_minutes_off,
            attachments::capture_metres_off,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(minutes, metres)| PhotoOffsets {
            minutes: minutes.map(i64::from),
            metres: metres.map(i64::from),
        })
        .collect())
}

/// Writes the report's plausibility (its document, as given, and the score the queue sorts
/// by), leaving everything else as it is.
pub fn set(
    conn: &mut DbConn,
    org: OrgId,
    report: ReportId,
    document: &ReportDocument,
) -> QueryResult<()> {
    let score = document.plausibility.as_ref().map(|p| i32::from(p.score));
    diesel::update(
        reports::table
            .filter(reports::org_id.eq(org))
            .filter(reports::id.eq(report)),
    )
    .set((
        reports::document.eq(super::stored::report_to_json(document)),
        reports::plausibility.eq(score),
    ))
    .execute(conn)?;
    Ok(())
}

/// Keeps what a photo's EXIF said about the visit (differences only).
pub fn set_capture(
    conn: &mut DbConn,
    org: OrgId,
    attachment: AttachmentId,
    offsets: PhotoOffsets,
) -> QueryResult<()> {
    let narrow = |v: Option<i64>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
    diesel::update(
        attachments::table
            .filter(attachments::org_id.eq(org))
            .filter(attachments::id.eq(attachment)),
    )
    .set((
        attachments::capture_minutes_off.eq(narrow(offsets.minutes)),
        attachments::capture_metres_off.eq(narrow(offsets.metres)),
    ))
    .execute(conn)?;
    Ok(())
}
