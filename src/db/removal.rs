//! Removing an organization whole: every row of every table that holds tenant data, children
//! before the rows they name, then the organization. Used to take away a demo that did not
//! finish loading, so that it can be loaded again.

use diesel::prelude::*;

use super::DbConn;
use super::schema::*;
use crate::ids::OrgId;

/// Each table with an `org_id`, children first (a structure test checks that none is
/// missing).
macro_rules! tables_of_org {
    ($conn:expr, $org:expr, $($table:ident),* $(,)?) => {{
        let mut removed = 0;
        $(
            removed += diesel::delete($table::table.filter($table::org_id.eq($org)))
                .execute($conn)?;
        )*
        removed
    }};
}

/// Deletes everything of `org` and the organization itself, in the caller's transaction;
/// the number of rows removed.
pub fn delete_organization(conn: &mut DbConn, org: OrgId) -> QueryResult<usize> {
    let rows = tables_of_org!(
        conn,
        org,
        audit_entries,
        webhook_attempts,
        webhook_deliveries,
        webhooks,
        action_plan_actions,
        action_plan_visits,
        action_plans,
        appeals,
        verdict_changes,
        attachments,
        report_revisions,
        report_transitions,
        assignments,
        reports,
        rollup_questions,
        rollup_sections,
        rollups,
        shopper_exclusions,
        manager_locations,
        refresh_tokens,
        integration_clients,
        questionnaires,
        waves,
        locations,
        events,
        pending_events,
        event_sequences,
        organization_settings,
        programme_settings,
        user_emails,
        users,
    );
    let org_row =
        diesel::delete(organizations::table.filter(organizations::id.eq(org))).execute(conn)?;
    Ok(rows + org_row)
}

/// Deletes, in one transaction, the organization of the user with `email` (if any) and the
/// global setting `mark`: the rows removed.
pub fn delete_organization_of(conn: &mut DbConn, email: &str, mark: &str) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let orgs: Vec<OrgId> = user_emails::table
            .filter(user_emails::email.eq(email))
            .select(user_emails::org_id)
            .load(conn)?;
        let mut removed = 0;
        for org in orgs {
            removed += delete_organization(conn, org)?;
        }
        super::settings::delete(conn, mark)?;
        Ok(removed)
    })
}
