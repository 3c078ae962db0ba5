//! Requests and responses of action plans.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::plan::{Action, Cause, Decision, PlanStatus};
use super::service::{PeriodFigures, PlanDetail, PlanView};
use crate::aggregates::dto::LocationRef;
use crate::aggregates::figures::Figures;
use crate::aggregates::insight_dto::MeasureChanges;
use crate::ids::{ActionPlanId, LocationId, ReportId, UserId};

/// Opens a plan by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "Three visits in a row found the counter unattended at lunch."}))]
pub struct OpenPlanRequest {
    /// Why it is opened (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub summary: String,
}

/// One action as the manager writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// What will be done (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
    /// Who does it: a name (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub owner: String,
    /// Due on this local date at the location: from today there to a year ahead.
    pub due_on: NaiveDate,
}

/// The causes and the actions of a plan (replacing any earlier ones).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "causes": "Lunch cover is one person; the phone pulls them from the counter.",
    "actions": [
        {"description": "Move phone orders to the back office from 12:00 to 14:00", "owner": "Marta", "due_on": "2026-12-20"},
        {"description": "Greeting refresher for the lunch team", "owner": "João", "due_on": "2027-01-10"}
    ]
}))]
pub struct PlanRequest {
    /// The manager's analysis (1 to 4000 characters).
    #[schema(min_length = 1, max_length = 4000)]
    pub causes: String,
    /// 1 to 20 actions.
    #[schema(min_items = 1, max_items = 20)]
    pub actions: Vec<ActionRequest>,
}

/// An action done, with an optional note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Done on the 18th; rota posted in the back office."}))]
pub struct ActionDoneRequest {
    /// Up to 2000 characters.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// HQ's decision on a done plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "verify", "note": "Two clean visits since; well done."}))]
pub struct PlanReviewRequest {
    pub decision: Decision,
    /// Up to 2000 characters.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Which plans to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlansQuery {
    pub status: Option<PlanStatus>,
    pub cause: Option<Cause>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub location_id: Option<LocationId>,
    /// Only locations of this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
    /// Only plans with (`true`) or without (`false`) an overdue action.
    pub overdue: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// Which plans of a location to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LocationPlansQuery {
    pub status: Option<PlanStatus>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// One action of a plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionResponse {
    /// 1-based, in the order written.
    pub number: u32,
    pub description: String,
    pub owner: String,
    pub due_on: NaiveDate,
    #[schema(required = true)]
    pub done_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub done_note: Option<String>,
    /// Not done and its due date has passed at the location.
    pub overdue: bool,
}

fn action(a: Action, today: NaiveDate) -> ActionResponse {
    ActionResponse {
        overdue: a.overdue(today),
        number: a.number,
        description: a.description,
        owner: a.owner,
        due_on: a.due_on,
        done_at: a.done_at,
        done_note: a.done_note,
    }
}

/// An action plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionPlanResponse {
    pub id: ActionPlanId,
    pub location: LocationRef,
    pub cause: Cause,
    pub status: PlanStatus,
    /// Why it was opened.
    pub summary: String,
    /// The manager's analysis, once planned.
    #[schema(required = true)]
    pub causes: Option<String>,
    pub actions: Vec<ActionResponse>,
    /// An action is overdue at the location today.
    pub overdue: bool,
    /// The released visits that opened it or were added by a later trigger.
    pub visits: Vec<ReportId>,
    /// `null` when it opened by itself.
    #[schema(required = true)]
    pub opened_by: Option<UserId>,
    pub opened_at: DateTime<Utc>,
    #[schema(required = true)]
    pub planned_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub done_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub verified_at: Option<DateTime<Utc>>,
    /// HQ's note with its last decision.
    #[schema(required = true)]
    pub review_note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<PlanView> for ActionPlanResponse {
    fn from(v: PlanView) -> Self {
        let overdue = v.overdue();
        let p = v.plan;
        ActionPlanResponse {
            id: p.id,
            location: (&v.location).into(),
            cause: p.cause,
            status: p.status,
            summary: p.summary,
            causes: p.causes,
            actions: p.actions.into_iter().map(|a| action(a, v.today)).collect(),
            overdue,
            visits: p.visits,
            opened_by: p.opened_by,
            opened_at: p.opened_at,
            planned_at: p.planned_at,
            done_at: p.done_at,
            verified_at: p.verified_at,
            review_note: p.review_note,
            updated_at: p.updated_at,
        }
    }
}

/// A period's figures at the location.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeriodFiguresResponse {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub figures: Figures,
}

impl From<PeriodFigures> for PeriodFiguresResponse {
    fn from(p: PeriodFigures) -> Self {
        PeriodFiguresResponse {
            from: p.from,
            to: p.to,
            figures: p.figures,
        }
    }
}

/// An action plan and whether it worked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionPlanDetail {
    #[serde(flatten)]
    pub plan: ActionPlanResponse,
    /// The location's figures (every questionnaire) over the 90 days before the plan opened.
    pub baseline: PeriodFiguresResponse,
    /// Once done: its figures from the day the plan was done to today.
    #[schema(required = true)]
    pub follow_up: Option<PeriodFiguresResponse>,
    /// Once done: the follow-up against the baseline, each measure with its interval and
    /// significance (as in `GET /aggregates/changes`).
    #[schema(required = true)]
    pub changes: Option<MeasureChanges>,
}

impl From<PlanDetail> for ActionPlanDetail {
    fn from(d: PlanDetail) -> Self {
        ActionPlanDetail {
            plan: d.view.into(),
            baseline: d.baseline.into(),
            follow_up: d.follow_up.map(Into::into),
            changes: d.changes.as_ref().map(Into::into),
        }
    }
}
