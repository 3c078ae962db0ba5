//! The audit log as the API shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::model::Entry;
use crate::ids::AuditId;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only changes by this user or integration client (its id).
    #[param(max_length = 36)]
    pub actor_id: Option<String>,
    /// Only this action (`user.created`, `location.updated`, …; see the list in the README).
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// Only changes of this kind of target: `user`, `client`, `location`, `questionnaire`,
    /// `organization`, `webhook`, `wave`.
    #[param(inline)]
    pub target_kind: Option<TargetKind>,
    /// Only changes of this target (its id).
    #[param(max_length = 36)]
    pub target_id: Option<String>,
    /// Changes at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// Changes before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// What kind of thing a change was made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    User,
    Client,
    Location,
    Questionnaire,
    Organization,
    Webhook,
    Wave,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::User => "user",
            TargetKind::Client => "client",
            TargetKind::Location => "location",
            TargetKind::Questionnaire => "questionnaire",
            TargetKind::Organization => "organization",
            TargetKind::Webhook => "webhook",
            TargetKind::Wave => "wave",
        }
    }
}

/// Who made a change: a user, an integration client, or `system` (a command run on the
/// server; no id).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditActor {
    #[schema(example = "user")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub id: Option<String>,
}

/// What a change was made to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditTarget {
    #[schema(example = "location")]
    pub kind: String,
    pub id: String,
}

/// One administrative change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "019afc2e-1c2d-7a3b-9c4d-5e6f7a8b9c0d", "at": "2026-12-07T09:30:00Z", "actor": {"kind": "user", "id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f"}, "action": "location.updated", "target": {"kind": "location", "id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e90"}, "before": {"name": "Chiado"}, "after": {"name": "Chiado (Rua Garrett)"}}))]
pub struct AuditEntryResponse {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// `{target kind}.{what happened}`.
    pub action: String,
    pub target: AuditTarget,
    /// The target as the API showed it before the change (absent for a creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The target as the API shows it after the change (absent for a removal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

impl From<Entry> for AuditEntryResponse {
    fn from(e: Entry) -> Self {
        AuditEntryResponse {
            id: e.id,
            at: e.at,
            actor: AuditActor {
                id: (!e.actor_id.is_empty()).then_some(e.actor_id),
                kind: e.actor_kind,
            },
            action: e.action,
            target: AuditTarget {
                kind: e.target_kind,
                id: e.target_id,
            },
            before: e.before,
            after: e.after,
        }
    }
}
