//! The audit log's rows: one per administrative change, written by the change's transaction.

use diesel::prelude::*;

use super::schema::audit_entries;
use super::{DbConn, utc};
use crate::audit::model::{Entry, EntryFilter, NewEntry};
use crate::ids::{AuditId, OrgId};

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = audit_entries)]
struct Row {
    org_id: OrgId,
    id: AuditId,
    at: chrono::NaiveDateTime,
    actor_kind: String,
    actor_id: String,
    action: String,
    target_kind: String,
    target_id: String,
    before_state: Option<String>,
    after_state: Option<String>,
}

pub fn insert(conn: &mut DbConn, entry: &NewEntry) -> QueryResult<()> {
    let row = Row {
        org_id: entry.org_id,
        id: entry.id,
        at: entry.at.naive_utc(),
        actor_kind: entry.actor.kind().to_string(),
        actor_id: entry.actor.id(),
        action: entry.action.to_string(),
        target_kind: entry.target_kind.to_string(),
        target_id: entry.target_id.clone(),
        before_state: entry.before.as_ref().map(ToString::to_string),
        after_state: entry.after.as_ref().map(ToString::to_string),
    };
    diesel::insert_into(audit_entries::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// A page of `org`'s entries, newest first, after the cursor's entry.
pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &EntryFilter,
    before: Option<AuditId>,
    limit: i64,
) -> QueryResult<Vec<Entry>> {
    let mut query = audit_entries::table
        .filter(audit_entries::org_id.eq(org))
        .select(Row::as_select())
        .order(audit_entries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_entries::id.lt(before));
    }
    if let Some(actor) = &filter.actor_id {
        query = query.filter(audit_entries::actor_id.eq(actor.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_entries::action.eq(action.clone()));
    }
    if let Some(kind) = &filter.target_kind {
        query = query.filter(audit_entries::target_kind.eq(kind.clone()));
    }
    if let Some(target) = &filter.target_id {
        query = query.filter(audit_entries::target_id.eq(target.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_entries::at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_entries::at.lt(to.naive_utc()));
    }
    Ok(query
        .load::<Row>(conn)?
        .into_iter()
        .map(|row| Entry {
            id: row.id,
            at: utc(row.at),
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            action: row.action,
            target_kind: row.target_kind,
            target_id: row.target_id,
            before: row.before_state.and_then(|s| serde_json::from_str(&s).ok()),
            after: row.after_state.and_then(|s| serde_json::from_str(&s).ok()),
        })
        .collect())
}
