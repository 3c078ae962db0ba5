//! `action_plan.overdue`: a sweep finds actions whose due date has passed at their location
//! (an action due on the 5th is overdue on the 6th there) and records the event once per
//! action. It runs at start and every minute; instances share the work safely (the first to
//! mark an action records its event).

use std::time::Duration;

use chrono::TimeDelta;

use crate::db::plans::{self as store};
use crate::db::{Db, DbError, locations};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(60);
/// Candidates read per pass.
const BATCH: i64 = 500;

pub async fn run_periodically(db: Db) {
    let mut interval = actix_web::rt::time::interval(EVERY);
    loop {
        interval.tick().await;
        match sweep(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(actions = n, "overdue actions recorded"),
            Err(e) => tracing::error!(error = %e, "the overdue sweep failed; retried in a minute"),
        }
    }
}

/// Records the event of every action that became overdue; how many.
pub async fn sweep(db: &Db) -> Result<usize, DbError> {
    // No place on Earth is more than a day ahead of UTC: an action due before the day after
    // tomorrow (UTC) may be overdue somewhere; each is checked at its location.
    let before = db.now().date_naive() + TimeDelta::days(2);
    let candidates = db
        .run(move |conn| Ok::<_, DbError>(store::due_before(conn, before, BATCH)?))
        .await?;
    let mut recorded = 0;
    for due in candidates {
        let done = db
            .write(move |tx| {
                let Some(plan) = store::find(tx, due.org_id, due.plan_id)? else {
                    return Ok::<_, DbError>(false);
                };
                let Some(location) = locations::find(tx, due.org_id, plan.location_id)? else {
                    return Ok(false);
                };
                let today = tx
                    .now()
                    .with_timezone(&location.fields.timezone)
                    .date_naive();
                let Some(action) = plan.actions.iter().find(|a| a.number == due.number) else {
                    return Ok(false);
                };
                if !action.overdue(today) || !store::mark_overdue_recorded(tx, &due)? {
                    return Ok(false);
                }
                events::record(
                    tx,
                    &event::action_plan(EventType::ActionPlanOverdue, &plan, None, Some(action)),
                )?;
                Ok(true)
            })
            .await?;
        recorded += usize::from(done);
    }
    Ok(recorded)
}
