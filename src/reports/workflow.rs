//! The review workflow's rules: which action moves a report from which status to which,
//! and who may take it. Pure: no I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::model::Role;
use crate::ids::{OrgId, ReportId, TransitionId};
use crate::reports::model::ReportStatus;

/// Most characters in a review note.
pub const MAX_NOTE_CHARS: usize = 4_000;

/// A change of a report's status, as recorded in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = HistoryAction)]
pub enum Action {
    /// The first submission.
    Submit,
    /// Release the report: managers see it and aggregates count it.
    Approve,
    Reject,
    /// Send back to the shopper for a revision.
    Return,
    /// Take an approved or rejected report back into review (admins).
    Reopen,
    /// The shopper's corrected revision of a returned report.
    Revise,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Return,
        Action::Reopen,
        Action::Revise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Return => "return",
            Action::Reopen => "reopen",
            Action::Revise => "revise",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The status this action leads to from `from`, or `None` when it is not allowed.
    pub fn apply(self, from: Option<ReportStatus>) -> Option<ReportStatus> {
        use ReportStatus::*;
        match (self, from) {
            (Action::Submit, None) => Some(Submitted),
            (Action::Approve, Some(Submitted)) => Some(Approved),
            (Action::Reject, Some(Submitted)) => Some(Rejected),
            (Action::Return, Some(Submitted)) => Some(Returned),
            (Action::Reopen, Some(Approved | Rejected)) => Some(Submitted),
            (Action::Revise, Some(Returned)) => Some(Submitted),
            _ => None,
        }
    }

    /// Whether the action needs a note explaining it.
    pub fn needs_note(self) -> bool {
        matches!(self, Action::Reject | Action::Return | Action::Reopen)
    }

    /// The roles that may take a reviewer's action (`None` for actions users do not take
    /// through the review endpoint).
    pub fn reviewer_roles(self) -> Option<&'static [Role]> {
        match self {
            Action::Approve | Action::Reject | Action::Return => {
                Some(&[Role::Reviewer, Role::Admin])
            }
            Action::Reopen => Some(&[Role::Admin]),
            Action::Submit | Action::Revise => None,
        }
    }
}

/// Whether a change was made by a person or by an integration client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    Client,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Client => "client",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ActorKind::User, ActorKind::Client]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// The user's or the client's id.
    pub id: uuid::Uuid,
    /// A user's role when the change was made.
    pub role: Option<Role>,
}

/// One recorded change of a report's status.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub id: TransitionId,
    pub org_id: OrgId,
    pub report_id: ReportId,
    pub from: Option<ReportStatus>,
    pub to: ReportStatus,
    pub action: Action,
    pub actor: Actor,
    pub note: Option<String>,
    pub revision: i32,
    pub at: DateTime<Utc>,
}

/// What a change of status does to a report's release: an approved report is released
/// (managers see it, aggregates count it); nothing else is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    Released,
    Withdrawn,
}

impl Transition {
    /// Whether this change releases the report or withdraws its release; `None` when it
    /// does neither.
    pub fn release(&self) -> Option<Release> {
        let released = |s: Option<ReportStatus>| s == Some(ReportStatus::Approved);
        match (released(self.from), released(Some(self.to))) {
            (false, true) => Some(Release::Released),
            (true, false) => Some(Release::Withdrawn),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportStatus::*;

    #[test]
    fn the_transition_table() {
        let statuses = [
            None,
            Some(Submitted),
            Some(Approved),
            Some(Rejected),
            Some(Returned),
        ];
        let allowed = [
            (Action::Submit, None, Submitted),
            (Action::Approve, Some(Submitted), Approved),
            (Action::Reject, Some(Submitted), Rejected),
            (Action::Return, Some(Submitted), Returned),
            (Action::Reopen, Some(Approved), Submitted),
            (Action::Reopen, Some(Rejected), Submitted),
            (Action::Revise, Some(Returned), Submitted),
        ];
        for action in Action::ALL {
            for from in statuses {
                let expected = allowed
                    .iter()
                    .find(|(a, f, _)| *a == action && *f == from)
                    .map(|(_, _, to)| *to);
                assert_eq!(action.apply(from), expected, "{action:?} from {from:?}");
            }
        }
    }

    #[test]
    fn notes_and_roles() {
        assert!(!Action::Approve.needs_note());
        assert!(
            Action::Return.needs_note()
                && Action::Reject.needs_note()
                && Action::Reopen.needs_note()
        );
        assert_eq!(Action::Reopen.reviewer_roles(), Some(&[Role::Admin][..]));
        assert!(
            Action::Approve
                .reviewer_roles()
                .unwrap()
                .contains(&Role::Reviewer)
        );
        assert_eq!(Action::Revise.reviewer_roles(), None);
    }
}
