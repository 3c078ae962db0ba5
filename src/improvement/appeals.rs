//! The use cases of appeals: a manager opens one on a released report of their location
//! within the appeal window; a reviewer upholds the report or amends the disputed answers,
//! re-scoring it as a new revision with the rollups, the verdict and any action plan moved
//! in the same transaction.

use std::collections::BTreeSet;

use super::appeal::{Appeal, AppealDecision, AppealStatus, Evidence, within_window};
use crate::aggregates::moves::{Counted, FigureMove, MoveKind};
use crate::aggregates::rollup;
use crate::aggregates::stats::VerdictRule;
use crate::attachments::gate::UploadGate;
use crate::attachments::service::{self as files, AttachmentError, Upload};
use crate::attachments::storage::Storage;
use crate::db::aggregates as rollups;
use crate::db::appeals::{self as store, AppealFilter};
use crate::db::reports as report_store;
use crate::db::{Db, DbError, locations, questionnaires, settings};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{AppealId, LocationId, OrgId, ReportId, UserId};
use crate::reports::model::{self, Report, ReportStatus};
use crate::reports::scoring::Answer;
use crate::reports::{scoring, validation, verdict};
use crate::validation::Violation;

#[derive(Debug, thiserror::Error)]
pub enum AppealError {
    #[error("no such appeal")]
    NotFound,
    #[error("no such released report at a location you manage")]
    NoReport,
    #[error("invalid")]
    Invalid(Vec<Violation>),
    #[error("the report has an open appeal; wait for its decision")]
    Exists,
    #[error("the appeal window ({0} days after the release) has closed")]
    WindowClosed(u32),
    #[error("the appeal is {current}: it was decided", current = .current.as_str())]
    Decided { current: AppealStatus },
    #[error("the report is {current} now: it is no longer released", current = .current.as_str())]
    NotReleased { current: ReportStatus },
    #[error("only the manager who appealed attaches its evidence")]
    NotAppellant,
    #[error("the appeal has another file as its evidence; an appeal has one")]
    EvidenceExists,
    #[error("the appeal has no evidence")]
    NoEvidence,
    #[error(transparent)]
    File(#[from] AttachmentError),
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::db::domain_error!(AppealError);

/// Longest reason and decision note.
pub const MAX_TEXT: usize = 2000;
/// Most disputed answers.
pub const MAX_QUESTIONS: usize = 50;

/// Who reads appeals: admins, reviewers and clients all; a manager their locations'.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    All,
    Managed(UserId),
}

fn text(found: &mut Vec<Violation>, pointer: &str, value: &str) -> String {
    super::service::checked_text(found, pointer, value, MAX_TEXT)
}

/// Opens an appeal: the manager names the disputed answers and why.
pub async fn open(
    db: &Db,
    org: OrgId,
    manager: UserId,
    report: ReportId,
    questions: Vec<String>,
    reason: String,
) -> Result<Appeal, AppealError> {
    let mut found = Vec::new();
    let reason = text(&mut found, "/reason", &reason);
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        found.push(Violation::new(
            "/questions",
            "out_of_range",
            format!("1 to {MAX_QUESTIONS} question keys"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, key) in questions.iter().enumerate() {
        if !seen.insert(key.as_str()) {
            found.push(Violation::new(
                format!("/questions/{i}"),
                "duplicate",
                "each question is named once",
            ));
        }
    }
    if !found.is_empty() {
        return Err(AppealError::Invalid(found));
    }
    db.write(move |tx| {
        let stored = report_store::find(tx, org, report)?.ok_or(AppealError::NoReport)?;
        if stored.status != ReportStatus::Approved
            || !locations::manages(tx, org, manager, stored.location_id)?
        {
            return Err(AppealError::NoReport);
        }
        let answered: BTreeSet<&str> = stored
            .document
            .submission
            .answers
            .iter()
            .map(|a| a.question.as_str())
            .collect();
        let unknown: Vec<Violation> = questions
            .iter()
            .enumerate()
            .filter(|(_, k)| !answered.contains(k.as_str()))
            .map(|(i, k)| {
                Violation::new(
                    format!("/questions/{i}"),
                    "unknown_question",
                    format!("the report has no answer to `{k}`"),
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(AppealError::Invalid(unknown));
        }
        let released_at = report_store::transitions(tx, org, report)?
            .into_iter()
            .filter(|t| t.to == ReportStatus::Approved)
            .map(|t| t.at)
            .max()
            .unwrap_or(stored.updated_at);
        let days = settings::organization(tx, org)?.appeal_window_days;
        let now = tx.now();
        if !within_window(released_at, now, days) {
            return Err(AppealError::WindowClosed(days));
        }
        let appeal = Appeal {
            id: AppealId::generate(),
            org_id: org,
            report_id: report,
            location_id: stored.location_id,
            appellant_id: manager,
            status: AppealStatus::Open,
            questions: questions.clone(),
            reason: reason.clone(),
            revision: stored.revision,
            amended_revision: None,
            opened_at: now,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            evidence: None,
        };
        if !store::insert(tx, &appeal)? {
            return Err(AppealError::Exists);
        }
        events::record(tx, &event::appeal(EventType::AppealOpened, &appeal))?;
        Ok(appeal)
    })
    .await
}

fn visible(
    conn: &mut crate::db::DbConn,
    org: OrgId,
    reader: Reader,
    location: LocationId,
) -> Result<bool, DbError> {
    Ok(match reader {
        Reader::All => true,
        Reader::Managed(m) => locations::manages(conn, org, m, location)?,
    })
}

pub async fn get(db: &Db, org: OrgId, reader: Reader, id: AppealId) -> Result<Appeal, AppealError> {
    db.run(move |conn| {
        let appeal = store::find(conn, org, id)?.ok_or(AppealError::NotFound)?;
        if !visible(conn, org, reader, appeal.location_id)? {
            return Err(AppealError::NotFound);
        }
        Ok(appeal)
    })
    .await
}

/// A page of appeals, oldest first (the reviewers' queue with `status=open`).
pub async fn list(
    db: &Db,
    org: OrgId,
    reader: Reader,
    status: Option<AppealStatus>,
    location: Option<LocationId>,
    after: Option<AppealId>,
    limit: i64,
) -> Result<Vec<Appeal>, AppealError> {
    db.run(move |conn| {
        let locations_in = match reader {
            Reader::Managed(m) => {
                let mine = locations::LocationFilter {
                    manager: Some(m),
                    ..Default::default()
                };
                Some(
                    locations::briefs(conn, org, &mine, 100_000)?
                        .into_iter()
                        .map(|l| l.id)
                        .filter(|id| location.is_none_or(|only| only == *id))
                        .collect(),
                )
            }
            Reader::All => location.map(|id| vec![id]),
        };
        let filter = AppealFilter {
            status,
            locations: locations_in,
        };
        Ok(store::list(conn, org, &filter, after, limit)?)
    })
    .await
}

/// The appeals of a report, for its history.
pub async fn of_report(db: &Db, org: OrgId, report: ReportId) -> Result<Vec<Appeal>, DbError> {
    db.run(move |conn| Ok(store::of_report(conn, org, report)?))
        .await
}

/// The report with the corrected answers in place of the disputed ones, checked against
/// its questionnaire: pointers name the request's `/answers/{i}`.
fn amended(
    report: &Report,
    questionnaire: &crate::questionnaires::model::Questionnaire,
    answers: &[Answer],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Report, AppealError> {
    let mut submission = report.document.submission.clone();
    // Where each corrected answer goes in the report's answers.
    let mut placed = Vec::new();
    for (i, answer) in answers.iter().enumerate() {
        match submission
            .answers
            .iter()
            .position(|a| a.question == answer.question)
        {
            Some(at) => {
                if let Some(slot) = submission.answers.get_mut(at) {
                    *slot = answer.clone();
                }
                placed.push((at, i));
            }
            None => {
                placed.push((submission.answers.len(), i));
                submission.answers.push(answer.clone());
            }
        }
    }
    let found: Vec<Violation> = validation::validate_answers(&submission, questionnaire)
        .into_iter()
        .map(|mut v| {
            for (at, i) in &placed {
                let from = format!("/answers/{at}");
                if v.pointer == from || v.pointer.starts_with(&format!("{from}/")) {
                    v.pointer = v.pointer.replacen(&from, &format!("/answers/{i}"), 1);
                }
            }
            v
        })
        .collect();
    if !found.is_empty() {
        return Err(AppealError::Invalid(found));
    }
    let mut next = report.clone();
    next.revision = report.revision + 1;
    next.body_hash = model::submission_hash(&submission);
    next.document.score = scoring::score(&questionnaire.content, &submission.answers);
    next.document.attachments = model::expected_files(&questionnaire.content, &submission);
    next.document.submission = submission;
    next.document.submitted_at = now;
    next.updated_at = now;
    Ok(next)
}

/// A reviewer's decision as asked.
pub struct Ruling {
    pub decision: AppealDecision,
    pub note: String,
    /// With `amend`: the corrected answers.
    pub answers: Vec<Answer>,
}

/// A reviewer's decision: uphold (nothing changes) or amend the disputed answers.
pub async fn decide(
    db: &Db,
    org: OrgId,
    reviewer: UserId,
    id: AppealId,
    ruling: Ruling,
    rule: VerdictRule,
) -> Result<Appeal, AppealError> {
    let Ruling {
        decision,
        note,
        answers,
    } = ruling;
    let mut found = Vec::new();
    let note = text(&mut found, "/note", &note);
    match decision {
        AppealDecision::Uphold if !answers.is_empty() => found.push(Violation::new(
            "/answers",
            "not_allowed",
            "corrected answers go with `amend` only",
        )),
        AppealDecision::Amend if answers.is_empty() => found.push(Violation::new(
            "/answers",
            "required",
            "`amend` needs the corrected answers",
        )),
        _ => {}
    }
    if !found.is_empty() {
        return Err(AppealError::Invalid(found));
    }
    db.write(move |tx| {
        let mut appeal = store::find(tx, org, id)?.ok_or(AppealError::NotFound)?;
        if appeal.status != AppealStatus::Open {
            return Err(AppealError::Decided {
                current: appeal.status,
            });
        }
        let now = tx.now();
        appeal.decided_by = Some(reviewer);
        appeal.decided_at = Some(now);
        appeal.decision_note = Some(note.clone());
        if decision == AppealDecision::Uphold {
            appeal.status = AppealStatus::Upheld;
            if !store::decide(tx, &appeal)? {
                return Err(AppealError::Decided {
                    current: AppealStatus::Open,
                });
            }
            events::record(tx, &event::appeal(EventType::AppealUpheld, &appeal))?;
            return Ok(appeal);
        }
        let outside: Vec<Violation> = answers
            .iter()
            .enumerate()
            .filter(|(_, a)| !appeal.questions.contains(&a.question))
            .map(|(i, a)| {
                Violation::new(
                    format!("/answers/{i}/question"),
                    "not_disputed",
                    format!("the appeal does not dispute `{}`", a.question),
                )
            })
            .collect();
        if !outside.is_empty() {
            return Err(AppealError::Invalid(outside));
        }
        let report = report_store::find(tx, org, appeal.report_id)?.ok_or(AppealError::NotFound)?;
        if report.status != ReportStatus::Approved {
            return Err(AppealError::NotReleased {
                current: report.status,
            });
        }
        let questionnaire =
            questionnaires::find(tx, org, report.questionnaire_id)?.ok_or(AppealError::NotFound)?;
        let next = amended(&report, &questionnaire, &answers, now)?;
        let today = now.date_naive();
        let before = verdict::read(tx, org, report.location_id, &rule, today)?;
        if !report_store::replace_content(tx, &report, &next)? {
            return Err(AppealError::NotReleased {
                current: report.status,
            });
        }
        // The released report moves in the rollups, the verdict and the plans with it.
        rollups::remove(tx, &rollup::contribution(&report))?;
        rollups::add(tx, &rollup::contribution(&next))?;
        let shift = verdict::record_change(tx, &next, before, &rule)?;
        super::service::on_release(tx, &next, false, shift.as_ref())?;
        appeal.status = AppealStatus::Amended;
        appeal.amended_revision = Some(next.revision);
        if !store::decide(tx, &appeal)? {
            return Err(AppealError::Decided {
                current: AppealStatus::Open,
            });
        }
        let amended_event = event::appeal(EventType::AppealAmended, &appeal);
        events::record(tx, &amended_event)?;
        let moved = FigureMove::new(
            amended_event.id,
            MoveKind::Amended,
            &next,
            Some(Counted::of(&report)),
            Some(Counted::of(&next)),
            now,
        );
        crate::db::figure_moves::record(tx, &moved)?;
        Ok(appeal)
    })
    .await
}

/// What an evidence upload did.
pub enum Attached {
    Created(Appeal),
    /// The same bytes again: nothing changed.
    Replayed(Appeal),
}

/// Checks what an evidence upload can be refused for before its body is read: the appeal is
/// one the manager may see, they made it, and it is open (or has its file already: the body
/// tells a retry from another file).
pub async fn admit_evidence(
    db: &Db,
    org: OrgId,
    manager: UserId,
    id: AppealId,
) -> Result<Appeal, AppealError> {
    let appeal = get(db, org, Reader::Managed(manager), id).await?;
    if appeal.appellant_id != manager {
        return Err(AppealError::NotAppellant);
    }
    if appeal.evidence.is_none() && appeal.status != AppealStatus::Open {
        return Err(AppealError::Decided {
            current: appeal.status,
        });
    }
    Ok(appeal)
}

/// Stores an admitted appeal's evidence: the file first, then the appeal names it in one
/// conditional update (the appeal still open and without a file), so a row always has its
/// file; a file the update refused is deleted at once unless an appeal names it.
pub async fn attach_evidence(
    db: &Db,
    storage: &Storage,
    gate: &UploadGate,
    appeal: Appeal,
    mut upload: Upload,
) -> Result<Attached, AppealError> {
    let uploaded = upload.received()?;
    // A retry of the stored file, or another file.
    let settled = |a: Appeal| match &a.evidence {
        Some(e) if e.uploaded_sha256 == uploaded => Ok(Attached::Replayed(a)),
        Some(_) => Err(AppealError::EvidenceExists),
        None => Err(AppealError::Decided { current: a.status }),
    };
    if appeal.evidence.is_some() {
        return settled(appeal);
    }
    let (org, id) = (appeal.org_id, appeal.id);
    let kept = files::keep(storage, gate, upload, &format!("orgs/{org}/appeals/{id}")).await?;
    let key = kept.key.clone();
    let evidence = Evidence {
        storage_key: kept.key,
        media_type: kept.media_type.as_str().to_string(),
        size: kept.size,
        sha256: kept.sha256,
        uploaded_sha256: uploaded.clone(),
        attached_at: db.now(),
    };
    let outcome = db
        .write(move |tx| {
            let attached = store::attach_evidence(tx, org, id, &evidence)?;
            let appeal = store::find(tx, org, id)?.ok_or(AppealError::NotFound)?;
            Ok::<_, AppealError>((attached, appeal))
        })
        .await
        .and_then(|(attached, appeal)| {
            if attached {
                Ok(Attached::Created(appeal))
            } else {
                settled(appeal)
            }
        });
    if !matches!(outcome, Ok(Attached::Created(_))) {
        files::forget(db, storage, key).await;
    }
    if let Ok(Attached::Created(a)) = &outcome {
        tracing::info!(appeal = %a.id, "appeal evidence stored");
    }
    outcome
}

/// An appeal's evidence, for a reader who may see the appeal.
pub async fn evidence(
    db: &Db,
    org: OrgId,
    reader: Reader,
    id: AppealId,
) -> Result<(Appeal, Evidence), AppealError> {
    let appeal = get(db, org, reader, id).await?;
    let evidence = appeal.evidence.clone().ok_or(AppealError::NoEvidence)?;
    Ok((appeal, evidence))
}
