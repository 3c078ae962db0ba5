//! The demo's improvement loop: action plans open by themselves while the history loads (the
//! organization has them on); afterwards the two zero-mile stores' plans show both sides.
//! Prenzlauer Berg's manager has written causes and actions and done the first (a plan under
//! way); nobody has planned for Oak Brook Center (a plan still waiting for its owner). The
//! same manager appealed two of Prenzlauer Berg's latest reports: one upheld, one amended.

use chrono::{Duration, NaiveDate};

use super::{DemoError, world};
use crate::db::plans::PlanFilter;
use crate::db::{Db, DbError, plans};
use crate::ids::{LocationId, OrgId, ReportId, UserId};
use crate::improvement::appeal::AppealDecision;
use crate::improvement::appeals;
use crate::improvement::plan::Cause;
use crate::improvement::service::{self as plan_service, Editor, NewAction};
use crate::organization::model::SettingsChange;
use crate::reports::scoring::Answer;

fn refused(e: impl std::fmt::Display) -> DemoError {
    DemoError::Refused(e.to_string())
}

/// Prenzlauer Berg (a zero-mile store in Europe) and its manager.
fn berlin(
    stores: &[(LocationId, &'static world::Store)],
    european_manager: Option<UserId>,
) -> Option<(UserId, LocationId)> {
    let (id, _) = stores.iter().find(|(_, s)| s.code == "EU-BER1")?;
    Some((european_manager?, *id))
}

/// Turns action plans on, before any visit is released.
pub(super) async fn turn_on(db: &Db, org: OrgId) -> Result<(), DemoError> {
    let change = SettingsChange {
        action_plans: Some(true),
        ..SettingsChange::default()
    };
    crate::organization::service::put_settings(db, org, crate::audit::model::Actor::System, change)
        .await?;
    Ok(())
}

/// Works the zero-mile plan of the European problem store with its manager.
pub(super) async fn work_on_plans(
    db: &Db,
    org: OrgId,
    stores: &[(LocationId, &'static world::Store)],
    european_manager: Option<UserId>,
    today: NaiveDate,
) -> Result<(), DemoError> {
    let Some((manager, location)) = berlin(stores, european_manager) else {
        return Ok(());
    };
    let filter = PlanFilter {
        cause: Some(Cause::ZeroMile),
        locations: Some(vec![location]),
        ..PlanFilter::default()
    };
    let open = db
        .run(move |conn| Ok::<_, DbError>(plans::list(conn, org, &filter, None, 1)?))
        .await?;
    let Some(plan) = open.first() else {
        return Ok(());
    };
    let editor = Editor::Manager(manager);
    let actions = vec![
        NewAction {
            description: "Phone orders move to the back office between 12:00 and 14:00".into(),
            owner: "Katrin (store lead)".into(),
            due_on: today + Duration::days(7),
        },
        NewAction {
            description: "Greeting and needs-finding refresher for the weekend team".into(),
            owner: "Jonas".into(),
            due_on: today + Duration::days(21),
        },
        NewAction {
            description: "Daily entrance and window check on the opening list".into(),
            owner: "Katrin (store lead)".into(),
            due_on: today + Duration::days(14),
        },
    ];
    let causes = "One person covers the counter and the phone at lunch and on Saturdays; \
                  shoppers wait unacknowledged while calls are taken. New weekend staff had \
                  no greeting training."
        .to_string();
    plan_service::plan(db, org, editor, plan.id, causes, actions)
        .await
        .map_err(refused)?;
    plan_service::finish_action(
        db,
        org,
        editor,
        plan.id,
        1,
        Some("Phones divert to the back office at lunch since Monday.".into()),
    )
    .await
    .map_err(refused)?;
    Ok(())
}

/// Two appeals by the European manager on Prenzlauer Berg's latest released visits, each
/// against an answer that lost points: the first upheld, the second amended.
pub(super) async fn appeal_two(
    db: &Db,
    org: OrgId,
    stores: &[(LocationId, &'static world::Store)],
    european_manager: Option<UserId>,
    reviewer: UserId,
    rule: crate::aggregates::stats::VerdictRule,
) -> Result<(), DemoError> {
    let Some((manager, location)) = berlin(stores, european_manager) else {
        return Ok(());
    };
    let released = db
        .run(move |conn| {
            Ok::<_, DbError>(crate::db::reports::released_at_location(
                conn, org, location, None, 1_000,
            )?)
        })
        .await?;
    // The latest visits first, each with a yes/no answer that lost its points.
    let disputed: Vec<(ReportId, String, bool)> = released
        .iter()
        .rev()
        .filter_map(|r| {
            let lost = r.document.score.questions.iter().find(|q| {
                q.counted
                    && q.earned < q.possible
                    && r.document.submission.answers.iter().any(|a| {
                        a.question == q.key && a.value.as_ref().is_some_and(|v| v.is_boolean())
                    })
            })?;
            let given = r
                .document
                .submission
                .answers
                .iter()
                .find(|a| a.question == lost.key)?
                .value
                .as_ref()?
                .as_bool()?;
            Some((r.id, lost.key.clone(), given))
        })
        .take(2)
        .collect();
    let decisions = [
        (
            AppealDecision::Uphold,
            "Our rota shows two staff on the floor at that hour; we think the shopper missed the greeting.",
            "The shopper's notes describe the wait in detail; the report stands.",
        ),
        (
            AppealDecision::Amend,
            "The door camera shows the answer was the other way round; footage kept for 30 days.",
            "The footage confirms it; the answer is corrected.",
        ),
    ];
    for ((report, question, given), (decision, reason, note)) in disputed.into_iter().zip(decisions)
    {
        let appeal = appeals::open(
            db,
            org,
            manager,
            report,
            vec![question.clone()],
            reason.to_string(),
        )
        .await
        .map_err(refused)?;
        let answers = match decision {
            AppealDecision::Uphold => Vec::new(),
            AppealDecision::Amend => vec![Answer {
                question,
                value: Some(serde_json::Value::Bool(!given)),
                na: false,
                comment: None,
            }],
        };
        appeals::decide(
            db,
            org,
            reviewer,
            appeal.id,
            appeals::Ruling {
                decision,
                note: note.to_string(),
                answers,
            },
            rule,
        )
        .await
        .map_err(refused)?;
    }
    Ok(())
}
