//! Assessing a report's plausibility: what other reports show is read for a submission or
//! revision, and the photo reasons are assessed again as each photo arrives. The rules are
//! in [`super::plausibility`].

use chrono::{DateTime, Utc};

use super::model::ReportSubmission;
use super::plausibility::{self as pl, Evidence, PhotoOffsets, Plausibility};
use super::scoring::Score;
use crate::attachments::content::Capture;
use crate::db::plausibility as store;
use crate::db::{Db, DbConn, DbError};
use crate::ids::{AttachmentId, LocationId, OrgId, ReportId, UserId};
use crate::locations::model::Location;
use crate::questionnaires::model::QuestionnaireContent;

/// What a submission is assessed with besides itself.
pub struct Subject<'a> {
    pub org: OrgId,
    pub shopper: UserId,
    pub questionnaire_key: &'a str,
    pub submission: &'a ReportSubmission,
    pub content: &'a QuestionnaireContent,
    pub score: &'a Score,
    pub location: &'a Location,
    pub checkin_radius_m: f64,
}

/// The plausibility of a submission (a new report or a revision, whose photos already
/// received count): four reads, none under a lock (it informs reviewers, it guards nothing).
pub async fn plausibility(db: &Db, s: Subject<'_>) -> Result<Plausibility, DbError> {
    let (org, shopper) = (s.org, s.shopper);
    let report = s.submission.id;
    let key = s.questionnaire_key.to_string();
    let started = s.submission.visit.started_at.with_timezone(&Utc);
    let ended = s.submission.visit.ended_at.with_timezone(&Utc);
    let signature = pl::signature(&s.submission.narrative);
    let (evidence, photos) = db
        .run(move |conn| {
            let similar = match &signature {
                Some(sig) => store::similar(conn, org, report, shopper, sig, started)?,
                None => None,
            };
            let evidence = Evidence {
                durations: store::durations(conn, org, &key, report)?,
                similar,
                neighbours: store::neighbours(conn, org, shopper, report, started, ended)?,
            };
            Ok::<_, DbError>((evidence, store::photo_offsets(conn, org, report)?))
        })
        .await?;
    let visit = pl::Visit {
        submission: s.submission,
        content: s.content,
        score: s.score,
        place: coordinates(s.location),
        checkin_radius_m: s.checkin_radius_m,
    };
    let mut reasons = pl::assess(&visit, &evidence);
    reasons.extend(pl::photo_reasons(&photos));
    Ok(Plausibility::of(reasons))
}

fn coordinates(location: &Location) -> Option<(f64, f64)> {
    location.fields.latitude.zip(location.fields.longitude)
}

/// Keeps what a photo's capture says about the visit (minutes and metres, never the time or
/// place themselves) and assesses the report's photo reasons again. Call inside the
/// transaction that stores the photo, under the report's lock.
pub fn note_capture(
    conn: &mut DbConn,
    org: OrgId,
    report: ReportId,
    location: LocationId,
    (started, ended): (DateTime<Utc>, DateTime<Utc>),
    attachment: AttachmentId,
    capture: &Capture,
) -> crate::db::QueryResult<()> {
    let Some(location) = crate::db::locations::find(conn, org, location)? else {
        return Ok(());
    };
    let offsets = PhotoOffsets::derive(
        capture.at(location.fields.timezone),
        capture.place,
        started,
        ended,
        coordinates(&location),
    );
    if offsets == PhotoOffsets::default() {
        return Ok(());
    }
    store::set_capture(conn, org, attachment, offsets)?;
    let Some(mut current) = crate::db::reports::find(conn, org, report)? else {
        return Ok(());
    };
    // A report stored before plausibility was assessed stays unassessed.
    let Some(before) = current.document.plausibility.clone() else {
        return Ok(());
    };
    let mut reasons: Vec<_> = before
        .reasons
        .iter()
        .filter(|r| !r.code.from_photo())
        .cloned()
        .collect();
    reasons.extend(pl::photo_reasons(&store::photo_offsets(conn, org, report)?));
    let after = Plausibility::of(reasons);
    if before == after {
        return Ok(());
    }
    current.document.plausibility = Some(after);
    store::set(conn, org, report, &current.document)
}
