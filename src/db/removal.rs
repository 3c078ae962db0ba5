//! Removing data. An organization whole: every row of every table that holds tenant data,
//! children before the rows they name, then the organization (to take away a demo that did
//! not finish loading, so that it can be loaded again). A person: their sign-in identity
//! replaced by a pseudonym, the free text they wrote emptied, the photos of staff in their
//! reports listed for deletion, and the details of the audit log's entries about them
//! dropped; scores, answers that are choices or numbers, and every count stay, so the
//! figures do not move. Old text: the narrative, staff observed and photos of staff of
//! reports past an organization's retention, with the same care for the figures.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::DbConn;
use super::schema::*;
use crate::ids::{OrgId, ReportId, UserId};

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
        figure_moves,
        attachments,
        narrative_bands,
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
        questionnaire_translations,
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

/// What an erasure changed.
#[derive(Debug, Default)]
pub struct Erased {
    /// Reports the person wrote (their documents and revisions emptied of free text).
    pub reports: usize,
    /// Stored files of staff photos in those reports, to delete once committed.
    pub files: Vec<String>,
}

/// The questionnaires answered by `user`'s reports.
pub fn questionnaires_of(conn: &mut DbConn, org: OrgId, user: UserId) -> QueryResult<Vec<String>> {
    reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::shopper_id.eq(user))
        .select(reports::questionnaire_id)
        .distinct()
        .load(conn)
}

/// Erases `user` of `org` in the caller's transaction: `email` is the pseudonym they are
/// known by from now on; `text_questions` are the keys of free-text questions, whose
/// answers are emptied with the narrative, comments, staff descriptions, check-in position
/// and device id of their reports.
pub fn erase_user(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
    email: &str,
    text_questions: &HashSet<String>,
    now: DateTime<Utc>,
) -> QueryResult<Erased> {
    let at = now.naive_utc();
    diesel::update(
        users::table
            .filter(users::org_id.eq(org))
            .filter(users::id.eq(user)),
    )
    .set((
        users::email.eq(email),
        users::display_name.eq("Erased user"),
        // No password hash matches this: signing in is over.
        users::password_hash.eq("!erased"),
        users::active.eq(false),
        users::sessions_valid_after.eq(Some(at)),
        users::updated_at.eq(at),
    ))
    .execute(conn)?;
    diesel::update(
        user_emails::table
            .filter(user_emails::org_id.eq(org))
            .filter(user_emails::user_id.eq(user)),
    )
    .set(user_emails::email.eq(email))
    .execute(conn)?;
    diesel::delete(
        refresh_tokens::table
            .filter(refresh_tokens::org_id.eq(org))
            .filter(refresh_tokens::user_id.eq(user)),
    )
    .execute(conn)?;

    // Their reports and every revision of them.
    let written: Vec<(ReportId, String)> = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::shopper_id.eq(user))
        .select((reports::id, reports::document))
        .load(conn)?;
    let count = written.len();
    let files = scrub_reports(conn, org, written, &|submission| {
        erase_submission(submission, text_questions)
    })?;

    // What they wrote as a reviewer or a manager.
    diesel::update(
        report_transitions::table
            .filter(report_transitions::org_id.eq(org))
            .filter(report_transitions::actor_id.eq(user.to_string()))
            .filter(report_transitions::note.is_not_null()),
    )
    .set(report_transitions::note.eq(None::<String>))
    .execute(conn)?;
    diesel::update(
        appeals::table
            .filter(appeals::org_id.eq(org))
            .filter(appeals::appellant_id.eq(user)),
    )
    .set(appeals::reason.eq(""))
    .execute(conn)?;
    diesel::update(
        appeals::table
            .filter(appeals::org_id.eq(org))
            .filter(appeals::decided_by.eq(user.to_string())),
    )
    .set(appeals::decision_note.eq(None::<String>))
    .execute(conn)?;
    // The audit log keeps that their account changed, not what it said.
    diesel::update(
        audit_entries::table
            .filter(audit_entries::org_id.eq(org))
            .filter(audit_entries::target_id.eq(user.to_string())),
    )
    .set((
        audit_entries::before_state.eq(None::<String>),
        audit_entries::after_state.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(Erased {
        reports: count,
        files,
    })
}

type Edit<'a> = &'a dyn Fn(&mut serde_json::Map<String, Value>);

/// Rewrites the documents of `written` (each report's id and document) and of every
/// revision of them with `edit` applied to their submission, and deletes the rows of their
/// photos of staff: the storage keys of those photos, to delete once committed.
fn scrub_reports(
    conn: &mut DbConn,
    org: OrgId,
    written: Vec<(ReportId, String)>,
    edit: Edit,
) -> QueryResult<Vec<String>> {
    let ids: Vec<ReportId> = written.iter().map(|(id, _)| *id).collect();
    for (id, document) in &written {
        diesel::update(
            reports::table
                .filter(reports::org_id.eq(org))
                .filter(reports::id.eq(*id)),
        )
        .set(reports::document.eq(scrub(document, edit)))
        .execute(conn)?;
    }
    let mut files = Vec::new();
    for chunk in ids.chunks(500) {
        let revisions: Vec<(ReportId, i32, String)> = report_revisions::table
            .filter(report_revisions::org_id.eq(org))
            .filter(report_revisions::report_id.eq_any(chunk.to_vec()))
            .select((
                report_revisions::report_id,
                report_revisions::revision,
                report_revisions::document,
            ))
            .load(conn)?;
        for (id, revision, document) in revisions {
            diesel::update(
                report_revisions::table
                    .filter(report_revisions::org_id.eq(org))
                    .filter(report_revisions::report_id.eq(id))
                    .filter(report_revisions::revision.eq(revision)),
            )
            .set(report_revisions::document.eq(scrub(&document, edit)))
            .execute(conn)?;
        }
        let staff = || {
            attachments::table
                .filter(attachments::org_id.eq(org))
                .filter(attachments::report_id.eq_any(chunk.to_vec()))
                .filter(attachments::shows_staff.eq(true))
        };
        files.extend(
            staff()
                .select(attachments::storage_key)
                .load::<String>(conn)?,
        );
        diesel::delete(staff()).execute(conn)?;
        // The narrative is emptied: what was derived from it to find repeats goes too.
        diesel::update(
            reports::table
                .filter(reports::org_id.eq(org))
                .filter(reports::id.eq_any(chunk.to_vec())),
        )
        .set(reports::narrative_signature.eq(None::<String>))
        .execute(conn)?;
        diesel::delete(
            narrative_bands::table
                .filter(narrative_bands::org_id.eq(org))
                .filter(narrative_bands::report_id.eq_any(chunk.to_vec())),
        )
        .execute(conn)?;
    }
    Ok(files)
}

/// What a retention pass removed from one batch of reports.
#[derive(Debug, Default)]
pub struct Pruned {
    /// Reports whose narrative and staff observed were emptied.
    pub reports: usize,
    /// Stored files of staff photos in those reports, to delete once committed.
    pub files: Vec<String>,
}

/// Empties, in the caller's transaction, the narrative and staff observed of at most
/// `limit` reports of `org` whose visit started before `cutoff` and that no pass has seen
/// since their last revision (and of every revision of them), and deletes their photos of
/// staff; marks them seen at `now`.
pub fn prune_personal_text(
    conn: &mut DbConn,
    org: OrgId,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Pruned> {
    let due: Vec<(ReportId, String)> = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::text_pruned_at.is_null())
        .filter(reports::visit_started_at.lt(cutoff.naive_utc()))
        .order(reports::visit_started_at)
        .limit(limit)
        .select((reports::id, reports::document))
        .load(conn)?;
    let ids: Vec<ReportId> = due.iter().map(|(id, _)| *id).collect();
    let files = scrub_reports(conn, org, due, &|submission| {
        submission.insert("narrative".into(), Value::String(String::new()));
        submission.insert("staff_observed".into(), Value::Array(Vec::new()));
    })?;
    for chunk in ids.chunks(500) {
        diesel::update(
            reports::table
                .filter(reports::org_id.eq(org))
                .filter(reports::id.eq_any(chunk.to_vec())),
        )
        .set((
            reports::text_pruned_at.eq(Some(now.naive_utc())),
            reports::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    }
    Ok(Pruned {
        reports: ids.len(),
        files,
    })
}

/// An erasure's edit of a submission: the free text emptied (narrative, staff observed,
/// comments, answers to `text_questions`), the check-in position and device id removed.
fn erase_submission(
    submission: &mut serde_json::Map<String, Value>,
    text_questions: &HashSet<String>,
) {
    submission.insert("narrative".into(), Value::String(String::new()));
    submission.insert("staff_observed".into(), Value::Array(Vec::new()));
    submission.insert("check_in".into(), Value::Null);
    if let Some(client) = submission.get_mut("client").and_then(Value::as_object_mut) {
        client.insert("device_id".into(), Value::Null);
    }
    if let Some(answers) = submission.get_mut("answers").and_then(Value::as_array_mut) {
        for answer in answers.iter_mut().filter_map(Value::as_object_mut) {
            answer.insert("comment".into(), Value::Null);
            let text = answer
                .get("question")
                .and_then(Value::as_str)
                .is_some_and(|q| text_questions.contains(q));
            if text && answer.get("value").is_some_and(Value::is_string) {
                answer.insert("value".into(), Value::String(String::new()));
            }
        }
    }
}

/// A report document with `edit` applied to its submission; one that does not parse is
/// left as it is (reading it reports the corruption).
fn scrub(document: &str, edit: Edit) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(document) else {
        return document.to_string();
    };
    if let Some(submission) = doc.get_mut("submission").and_then(Value::as_object_mut) {
        edit(submission);
    }
    doc.to_string()
}
