//! The demo's improvement loop: action plans open by themselves while the history loads (the
//! organization has them on); afterwards the two zero-mile stores' plans show both sides.
//! Prenzlauer Berg's manager has written causes and actions and done the first (a plan under
//! way); nobody has planned for Oak Brook Center (a plan still waiting for its owner).

use chrono::{Duration, NaiveDate};

use super::{DemoError, world};
use crate::db::plans::PlanFilter;
use crate::db::{Db, DbError, plans};
use crate::ids::{LocationId, OrgId, UserId};
use crate::improvement::plan::Cause;
use crate::improvement::service::{self as plan_service, Editor, NewAction};
use crate::organization::model::SettingsChange;

fn refused(e: impl std::fmt::Display) -> DemoError {
    DemoError::Refused(e.to_string())
}

/// Turns action plans on, before any visit is released.
pub(super) async fn turn_on(db: &Db, org: OrgId) -> Result<(), DemoError> {
    let change = SettingsChange {
        action_plans: Some(true),
        ..SettingsChange::default()
    };
    crate::organization::service::put_settings(db, org, change).await?;
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
    let (Some(manager), Some((berlin, _))) = (
        european_manager,
        stores.iter().find(|(_, s)| s.code == "EU-BER1"),
    ) else {
        return Ok(());
    };
    let location = *berlin;
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
