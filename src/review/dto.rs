//! Bodies of the review endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::model::Role;
use crate::reports::model::ReportStatus;
use crate::reports::workflow::{Action, ActorKind, Transition};

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// `submitted` → `approved`: released to managers and aggregates.
    Approve,
    /// `submitted` → `rejected` (note required).
    Reject,
    /// `submitted` → `returned` for the shopper to revise (note required).
    Return,
    /// `approved` or `rejected` → `submitted` (admins; note required).
    Reopen,
}

impl From<ReviewAction> for Action {
    fn from(a: ReviewAction) -> Self {
        match a {
            ReviewAction::Approve => Action::Approve,
            ReviewAction::Reject => Action::Reject,
            ReviewAction::Return => Action::Return,
            ReviewAction::Reopen => Action::Reopen,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "return", "note": "Please add the waiting time at the counter.", "revision": 1}))]
pub struct ReviewRequest {
    pub action: ReviewAction,
    /// Why; required for reject, return and reopen; shown to the shopper.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// The revision the reviewer read; a different current revision answers 409.
    #[serde(default)]
    pub revision: Option<i32>,
}

/// Who made a change (absent for the shopper, who sees decisions but not reviewers).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActorResponse {
    pub kind: ActorKind,
    pub id: uuid::Uuid,
}

/// One entry of a report's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub action: Action,
    /// `null` for the first submission.
    pub from_status: Option<ReportStatus>,
    pub to_status: ReportStatus,
    /// The report's revision after the change.
    pub revision: i32,
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<ActorResponse>,
    pub actor_role: Option<Role>,
    pub at: DateTime<Utc>,
}

impl HistoryEntry {
    pub fn new(t: Transition, show_actor: bool) -> Self {
        HistoryEntry {
            action: t.action,
            from_status: t.from,
            to_status: t.to,
            revision: t.revision,
            note: t.note,
            actor: show_actor.then_some(ActorResponse {
                kind: t.actor.kind,
                id: t.actor.id,
            }),
            actor_role: t.actor.role,
            at: t.at,
        }
    }
}

/// An appeal against the report, as its history shows it. The shopper sees the outcome,
/// never who appealed or why.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppealHistoryEntry {
    pub id: crate::ids::AppealId,
    pub status: crate::improvement::appeal::AppealStatus,
    /// The disputed question keys.
    pub questions: Vec<String>,
    /// The revision appealed, and the one an amendment made (by the deciding reviewer).
    pub revision: i32,
    pub amended_revision: Option<i32>,
    pub opened_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// The manager who appealed and why (`null` for the shopper).
    pub appellant_id: Option<crate::ids::UserId>,
    pub reason: Option<String>,
    /// The reviewer who decided (`null` for the shopper).
    pub decided_by: Option<crate::ids::UserId>,
}

impl AppealHistoryEntry {
    pub fn new(a: crate::improvement::appeal::Appeal, show_people: bool) -> Self {
        AppealHistoryEntry {
            id: a.id,
            status: a.status,
            questions: a.questions,
            revision: a.revision,
            amended_revision: a.amended_revision,
            opened_at: a.opened_at,
            decided_at: a.decided_at,
            decision_note: a.decision_note,
            appellant_id: show_people.then_some(a.appellant_id),
            reason: show_people.then_some(a.reason),
            decided_by: a.decided_by.filter(|_| show_people),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryResponse {
    pub items: Vec<HistoryEntry>,
    /// Managers' appeals against the report, oldest first.
    pub appeals: Vec<AppealHistoryEntry>,
}
