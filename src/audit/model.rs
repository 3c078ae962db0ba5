//! What one entry of the audit log says: who (a user, an integration client, or the server
//! itself for the command line), when, what (an action on a target), and the target's state
//! before and after as JSON documents without secrets.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::{QueryResult, Tx};
use crate::ids::{AuditId, OrgId};

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(crate::ids::UserId),
    Client(crate::ids::ClientId),
    /// A command run on the server (`create-admin`, the demo).
    System,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Client(_) => "client",
            Actor::System => "system",
        }
    }

    pub fn id(&self) -> String {
        match self {
            Actor::User(id) => id.to_string(),
            Actor::Client(id) => id.to_string(),
            Actor::System => String::new(),
        }
    }
}

/// What was changed: its kind (`user`, `location`, …) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: &'static str,
    pub id: String,
}

impl Target {
    pub fn new(kind: &'static str, id: impl ToString) -> Self {
        Target {
            kind,
            id: id.to_string(),
        }
    }
}

/// An entry to write.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub org_id: OrgId,
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// An entry as stored.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Which entries a reader asks for.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Records one change in the change's own transaction: `before` is absent for a creation,
/// `after` for a removal.
pub fn record<B: Serialize, A: Serialize>(
    tx: &mut Tx<'_>,
    org: OrgId,
    actor: Actor,
    action: &'static str,
    target: Target,
    before: Option<&B>,
    after: Option<&A>,
) -> QueryResult<()> {
    let entry = NewEntry {
        org_id: org,
        id: AuditId::generate(),
        at: tx.now(),
        actor,
        action,
        target_kind: target.kind,
        target_id: target.id,
        before: before.and_then(|b| serde_json::to_value(b).ok()),
        after: after.and_then(|a| serde_json::to_value(a).ok()),
    };
    crate::db::audit::insert(tx, &entry)
}
