//! What becomes of each demo visit: planned from the store's chances (submitted, returned and
//! revised, approved, rejected or left in the queue), then carried out through the use cases.

use super::*;

/// What happens to one visit's report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Fate {
    /// Still waiting in the review queue.
    Pending,
    Approve,
    Reject(usize),
    /// Returned with a note; revised and approved, or still with the shopper.
    Return {
        note: usize,
        revised: bool,
    },
}

pub(super) struct Plan {
    shopper: UserId,
    submission: ReportSubmission,
    fate: Fate,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn plan_visit(
    rng: &mut ChaCha8Rng,
    location_id: LocationId,
    store: &world::Store,
    questionnaire: &Questionnaire,
    shopper: UserId,
    day: NaiveDate,
    progress: f64,
    last: NaiveDate,
) -> Plan {
    let quality = store.profile.quality(progress);
    let phone = questionnaire.key == "phone-support";
    let tz: chrono_tz::Tz = store.timezone.parse().unwrap_or(chrono_tz::UTC);
    let local = day.and_time(
        NaiveTime::from_hms_opt(rng.random_range(9..19), rng.random_range(0..60), 0)
            .unwrap_or_default(),
    );
    let started: DateTime<Utc> = tz
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local));
    let short = rng.random_bool(0.01);
    let minutes = if phone {
        rng.random_range(3..13)
    } else {
        rng.random_range(8..36)
    };
    let length = if short {
        Duration::seconds(rng.random_range(50..110))
    } else {
        Duration::minutes(minutes)
    };
    let far = !phone && rng.random_bool(0.012);
    let delighted = rng.random_bool(quality.second);
    // The shopper writes in the language they answer in (the draws are the same in every
    // language, so the figures do not depend on it).
    let language = super::languages::spoken(store.country, questionnaire);
    let highlight = match (delighted, rng.random_bool(0.4)) {
        (_, false) => None,
        (true, true) => Some(pick(rng, &world::PRAISE)),
        (false, true) => Some(pick(rng, &world::NEUTRAL)),
    }
    .map(|text| super::languages::written(text, &language));
    let answers = visits::answers(&questionnaire.content, quality, highlight, rng);
    let score = crate::reports::scoring::score(&questionnaire.content, &answers);
    let narrative = match score.mile_level {
        crate::reports::scoring::MileLevel::Zero => pick(rng, &world::COMPLAINTS),
        crate::reports::scoring::MileLevel::First => pick(rng, &world::NEUTRAL),
        crate::reports::scoring::MileLevel::Second => pick(rng, &world::PRAISE),
    };
    let narrative = super::languages::written(narrative, &language);
    let check_in = (!phone).then(|| {
        let (dlat, dlon) = if far {
            (0.03, -0.02)
        } else {
            (
                rng.random_range(-0.0002..0.0002),
                rng.random_range(-0.0002..0.0002),
            )
        };
        CheckIn {
            lat: store.latitude + dlat,
            lon: store.longitude + dlon,
            accuracy_m: Some(f64::from(rng.random_range(5..30))),
            at: (started + Duration::seconds(rng.random_range(0..90))).fixed_offset(),
        }
    });
    let staff_observed = if !phone && rng.random_bool(0.3) {
        vec![StaffObserved {
            description: pick(
                rng,
                &[
                    "Clerk with a green apron at the till",
                    "Tall man with glasses near the clocks",
                    "Young woman at the delivery desk",
                ],
            )
            .to_string(),
            role: Some("sales associate".to_string()),
            first_name: None,
        }]
    } else {
        Vec::new()
    };
    let mut id = [0u8; 16];
    rng.fill(&mut id);
    let recent = (last - day).num_days() < 14;
    let fate = if far && rng.random_bool(0.7) {
        Fate::Reject(0)
    } else if recent && rng.random_bool(0.45) {
        Fate::Pending
    } else {
        let r: f64 = rng.random();
        if r < 0.02 {
            Fate::Reject(1)
        } else if r < 0.08 {
            Fate::Return {
                note: rng.random_range(0..world::RETURN_NOTES.len()),
                revised: !(recent && rng.random_bool(0.5)),
            }
        } else {
            Fate::Approve
        }
    };
    Plan {
        shopper,
        fate,
        submission: ReportSubmission {
            id: ReportId(uuid::Builder::from_random_bytes(id).into_uuid()),
            location_id,
            questionnaire_id: questionnaire.id,
            shopper_id: None,
            visit: Visit {
                started_at: started.fixed_offset(),
                ended_at: (started + length).fixed_offset(),
            },
            answers,
            narrative: narrative.to_string(),
            check_in,
            staff_observed,
            client: Some(ClientInfo {
                app: "secondmile-shopper".to_string(),
                version: "3.4.1".to_string(),
                device_id: None,
            }),
            receipt: None,
            assignment_id: None,
            language: Some(language),
        },
    }
}

pub(super) async fn run_visit(
    db: &Db,
    rules: &ReportsConfig,
    org: OrgId,
    review: &AuthUser,
    plan: Plan,
    questionnaires: &[Questionnaire],
    tally: &mut Tally,
) -> Result<(), DemoError> {
    let shopper = caller(org, plan.shopper, Role::Shopper);
    let id = plan.submission.id;
    let content = questionnaires
        .iter()
        .find(|q| q.id == plan.submission.questionnaire_id)
        .map(|q| q.content.clone());
    let corrected = content
        .as_ref()
        .map(|c| visits::corrected(c, &plan.submission.answers));
    let first = plan.submission.clone();
    reports_service::submit(db, rules, &shopper, first).await?;
    let decide = |action: Action, note: Option<&str>| Decision {
        action,
        note: note.map(str::to_string),
        revision: None,
        if_match: None,
    };
    match plan.fate {
        Fate::Pending => tally.submitted += 1,
        Fate::Approve => {
            reports_service::decide(db, rules.verdict, review, id, decide(Action::Approve, None))
                .await?;
            tally.approved += 1;
        }
        Fate::Reject(note) => {
            let note = pick_note(&world::REJECT_NOTES, note);
            reports_service::decide(db, rules.verdict, review, id, decide(Action::Reject, note))
                .await?;
            tally.rejected += 1;
        }
        Fate::Return { note, revised } => {
            let note = pick_note(&world::RETURN_NOTES, note);
            reports_service::decide(db, rules.verdict, review, id, decide(Action::Return, note))
                .await?;
            if revised {
                let mut again = plan.submission;
                if let Some(answers) = corrected {
                    again.answers = answers;
                }
                reports_service::revise(db, rules, &shopper, id, again).await?;
                reports_service::decide(
                    db,
                    rules.verdict,
                    review,
                    id,
                    decide(Action::Approve, None),
                )
                .await?;
                tally.revised += 1;
                tally.approved += 1;
            } else {
                tally.returned += 1;
            }
        }
    }
    Ok(())
}

/// The `n`th of a reviewer's notes (wrapping round).
fn pick_note(notes: &'static [&'static str], n: usize) -> Option<&'static str> {
    notes.get(n % notes.len().max(1)).copied()
}
