//! Action plans: how a store gets out of the zero mile. Pure: no I/O.
//!
//! A plan opens (automatically when a location's verdict becomes zero mile or a released
//! visit has a critical failure, where the organization turned plans on; or by hand), is
//! planned by the location's manager (causes and actions, each with an owner and a due
//! date), is done when every action is, and is then verified or reopened by HQ. One plan
//! per location and cause is open (not verified) at a time.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ActionPlanId, LocationId, OrgId, ReportId, UserId};

/// Why a plan was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ActionPlanCause)]
pub enum Cause {
    /// The location's verdict became zero mile.
    ZeroMile,
    /// A released visit had a critical failure.
    CriticalFailure,
    /// HQ opened it by hand.
    Manual,
}

impl Cause {
    pub const ALL: [Cause; 3] = [Cause::ZeroMile, Cause::CriticalFailure, Cause::Manual];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ZeroMile => "zero_mile",
            Cause::CriticalFailure => "critical_failure",
            Cause::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Cause::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a plan is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ActionPlanStatus)]
pub enum PlanStatus {
    /// Opened; waiting for the manager's causes and actions.
    Open,
    /// Causes and actions written; actions under way.
    Planned,
    /// Every action done; waiting for HQ.
    Done,
    /// HQ saw it work (closed).
    Verified,
    /// HQ sent it back; the manager plans again.
    Reopened,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 5] = [
        PlanStatus::Open,
        PlanStatus::Planned,
        PlanStatus::Done,
        PlanStatus::Verified,
        PlanStatus::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Open => "open",
            PlanStatus::Planned => "planned",
            PlanStatus::Done => "done",
            PlanStatus::Verified => "verified",
            PlanStatus::Reopened => "reopened",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        PlanStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Causes and actions may be (re)written: before every action is done.
    pub fn plannable(self) -> bool {
        matches!(
            self,
            PlanStatus::Open | PlanStatus::Planned | PlanStatus::Reopened
        )
    }
}

/// HQ's decision on a done plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ActionPlanDecision)]
pub enum Decision {
    /// It worked: the plan closes.
    Verify,
    /// It did not (yet): the manager plans again.
    Reopen,
}

/// One action of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// 1-based, in the order the manager wrote them.
    pub number: u32,
    pub description: String,
    /// Who does it (a name, not an account: staff have none).
    pub owner: String,
    /// Due on this local date at the location.
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_note: Option<String>,
}

impl Action {
    /// Not done and its due date has passed at the location (`today` is the location's
    /// local date): an action due on the 5th is overdue on the 6th there.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.done_at.is_none() && today > self.due_on
    }
}

/// An action plan of one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPlan {
    pub id: ActionPlanId,
    pub org_id: OrgId,
    pub location_id: LocationId,
    pub cause: Cause,
    pub status: PlanStatus,
    /// Why it was opened.
    pub summary: String,
    /// The manager's analysis of the causes, once planned.
    pub causes: Option<String>,
    pub actions: Vec<Action>,
    /// The visits that triggered it (the first and any later trigger).
    pub visits: Vec<ReportId>,
    /// `None` when opened automatically.
    pub opened_by: Option<UserId>,
    pub opened_at: DateTime<Utc>,
    pub planned_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    /// HQ's note with its last decision.
    pub review_note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ActionPlan {
    /// A plan opened now.
    pub fn open(
        org_id: OrgId,
        location_id: LocationId,
        cause: Cause,
        summary: String,
        opened_by: Option<UserId>,
        visit: Option<ReportId>,
        now: DateTime<Utc>,
    ) -> ActionPlan {
        ActionPlan {
            id: ActionPlanId::generate(),
            org_id,
            location_id,
            cause,
            status: PlanStatus::Open,
            summary,
            causes: None,
            actions: Vec::new(),
            visits: visit.into_iter().collect(),
            opened_by,
            opened_at: now,
            planned_at: None,
            done_at: None,
            verified_at: None,
            review_note: None,
            updated_at: now,
        }
    }

    /// Whether any action is overdue on the location's local `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.actions.iter().any(|a| a.overdue(today))
    }

    /// The status after HQ's decision, when the plan is done.
    pub fn decided(&self, decision: Decision) -> Option<PlanStatus> {
        (self.status == PlanStatus::Done).then_some(match decision {
            Decision::Verify => PlanStatus::Verified,
            Decision::Reopen => PlanStatus::Reopened,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_action_due_on_the_fifth_is_overdue_on_the_sixth() {
        let mut a = Action {
            number: 1,
            description: "Train the counter team".into(),
            owner: "Ana".into(),
            due_on: d("2026-12-05"),
            done_at: None,
            done_note: None,
        };
        assert!(!a.overdue(d("2026-12-05")));
        assert!(a.overdue(d("2026-12-06")));
        a.done_at = Some(Utc::now());
        assert!(
            !a.overdue(d("2026-12-09")),
            "a done action is never overdue"
        );
    }

    #[test]
    fn only_a_done_plan_is_verified_or_reopened() {
        let mut p = ActionPlan::open(
            OrgId::generate(),
            LocationId::generate(),
            Cause::Manual,
            "why".into(),
            None,
            None,
            Utc::now(),
        );
        assert_eq!(p.decided(Decision::Verify), None);
        p.status = PlanStatus::Done;
        assert_eq!(p.decided(Decision::Verify), Some(PlanStatus::Verified));
        assert_eq!(p.decided(Decision::Reopen), Some(PlanStatus::Reopened));
        for s in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(s.as_str()), Some(s));
        }
        for c in Cause::ALL {
            assert_eq!(Cause::parse(c.as_str()), Some(c));
        }
    }
}
