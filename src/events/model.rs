//! What an event is: its type, its subject and its small payload. Payloads carry ids,
//! statuses, dates and scores, never a name, email, note or comment of a shopper or of
//! staff, so an event can go to any integration without a privacy review.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::payload;
use crate::aggregates::figures::VerdictName;
use crate::attachments::model::Attachment;
use crate::ids::{EventId, LocationId, OrgId, ReportId, UserId, WebhookId};
use crate::improvement::appeal::Appeal;
use crate::improvement::plan::{Action, ActionPlan};
use crate::locations::model::Location;
use crate::programme::model::{Assignment, Wave};
use crate::questionnaires::model::Questionnaire;
use crate::reports::model::Report;

macro_rules! event_types {
    ($($variant:ident => $name:literal, $subject:literal;)+) => {
        /// Every kind of event, by the name integrations filter on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $($variant,)+
        }

        impl EventType {
            pub const ALL: &[EventType] = &[$(EventType::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)+
                }
            }

            /// What the event is about (`report`, `location`, ...).
            pub fn subject_type(self) -> &'static str {
                match self {
                    $(EventType::$variant => $subject,)+
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(EventType::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    ReportSubmitted => "report.submitted", "report";
    ReportRevised => "report.revised", "report";
    ReportApproved => "report.approved", "report";
    ReportRejected => "report.rejected", "report";
    ReportReturned => "report.returned", "report";
    ReportReopened => "report.reopened", "report";
    QuestionnairePublished => "questionnaire.published", "questionnaire";
    QuestionnaireRetired => "questionnaire.retired", "questionnaire";
    QuestionnaireTranslationChanged => "questionnaire.translation_changed", "questionnaire";
    LocationCreated => "location.created", "location";
    LocationUpdated => "location.updated", "location";
    LocationDeactivated => "location.deactivated", "location";
    LocationVerdictChanged => "location.verdict_changed", "location";
    AttachmentUploaded => "attachment.uploaded", "attachment";
    WaveCreated => "wave.created", "wave";
    WaveUpdated => "wave.updated", "wave";
    WaveClosed => "wave.closed", "wave";
    AssignmentCreated => "assignment.created", "assignment";
    AssignmentUpdated => "assignment.updated", "assignment";
    AssignmentAccepted => "assignment.accepted", "assignment";
    AssignmentDeclined => "assignment.declined", "assignment";
    AssignmentClaimed => "assignment.claimed", "assignment";
    AssignmentCancelled => "assignment.cancelled", "assignment";
    AssignmentCompleted => "assignment.completed", "assignment";
    AssignmentReopened => "assignment.reopened", "assignment";
    ActionPlanOpened => "action_plan.opened", "action_plan";
    ActionPlanPlanned => "action_plan.planned", "action_plan";
    ActionPlanDone => "action_plan.done", "action_plan";
    ActionPlanVerified => "action_plan.verified", "action_plan";
    ActionPlanReopened => "action_plan.reopened", "action_plan";
    ActionPlanOverdue => "action_plan.overdue", "action_plan";
    AppealOpened => "appeal.opened", "appeal";
    AppealUpheld => "appeal.upheld", "appeal";
    AppealAmended => "appeal.amended", "appeal";
    UserErased => "user.erased", "user";
    Ping => "ping", "webhook";
}

/// An event about to be written, in the transaction of its change.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub org_id: OrgId,
    pub event_type: EventType,
    pub subject_id: String,
    pub data: Value,
}

impl NewEvent {
    pub fn new(org_id: OrgId, event_type: EventType, subject_id: String, data: Value) -> Self {
        NewEvent {
            id: EventId::generate(),
            org_id,
            event_type,
            subject_id,
            data,
        }
    }
}

/// An event as stored: with its place in the organization's commit order.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub id: EventId,
    pub org_id: OrgId,
    pub event_type: String,
    pub subject_type: String,
    pub subject_id: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
}

impl Event {
    /// What integrations receive of it.
    pub fn message(&self) -> Message {
        Message {
            id: self.id,
            event_type: self.event_type.clone(),
            subject_type: self.subject_type.clone(),
            subject_id: self.subject_id.clone(),
            org_id: self.org_id,
            occurred_at: self.occurred_at,
            seq: Some(self.seq),
            data: self.data.clone(),
        }
    }
}

/// What an integration receives: an event of the feed (in the feed and as a webhook body
/// alike), or a ping, which has no place in the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: EventId,
    pub event_type: String,
    pub subject_type: String,
    pub subject_id: String,
    pub org_id: OrgId,
    pub occurred_at: DateTime<Utc>,
    /// The event's number in its organization's commit order; none for a ping.
    pub seq: Option<i64>,
    pub data: Value,
}

/// An event's `data`: the typed payload as JSON (plain fields: serializing cannot fail).
fn data<T: serde::Serialize>(payload: &T) -> Value {
    serde_json::to_value(payload).unwrap_or(Value::Null)
}

/// A ping to a subscription: a message with a fresh id that is no event of the feed.
pub fn ping(org_id: OrgId, webhook_id: WebhookId, at: DateTime<Utc>) -> Message {
    Message {
        id: EventId::generate(),
        event_type: EventType::Ping.as_str().into(),
        subject_type: EventType::Ping.subject_type().into(),
        subject_id: webhook_id.to_string(),
        org_id,
        occurred_at: at,
        seq: None,
        data: data(&payload::PingData { webhook_id }),
    }
}

/// A report's event: where, what, its revision, status and scores.
pub fn report(event_type: EventType, report: &Report) -> NewEvent {
    let score = &report.document.score;
    NewEvent::new(
        report.org_id,
        event_type,
        report.id.to_string(),
        data(&payload::ReportEventData {
            report_id: report.id,
            location_id: report.location_id,
            questionnaire_id: report.questionnaire_id,
            questionnaire_key: report.questionnaire_key.clone(),
            assignment_id: report.document.submission.assignment_id,
            status: report.status,
            revision: report.revision,
            visit_date: report.visit_local_date,
            score: score.overall,
            first_tier: score.first_tier,
            second_tier: score.second_tier,
            mile_level: score.mile_level,
            critical_failures: u32::try_from(score.critical_failures.len()).unwrap_or(u32::MAX),
        }),
    )
}

/// An uploaded file's event: its report, type, size and checksum (never the file).
pub fn attachment(a: &Attachment) -> NewEvent {
    NewEvent::new(
        a.org_id,
        EventType::AttachmentUploaded,
        a.id.to_string(),
        data(&payload::AttachmentEventData {
            attachment_id: a.id,
            report_id: a.report_id,
            revision: a.revision,
            content_type: a.media_type.clone(),
            size: a.size,
            sha256: Some(a.sha256.clone()),
        }),
    )
}

/// A location's 90-day verdict changed because a report was released or withdrawn.
pub fn verdict_changed(
    org_id: OrgId,
    location_id: LocationId,
    report_id: ReportId,
    change: &VerdictChange,
) -> NewEvent {
    NewEvent::new(
        org_id,
        EventType::LocationVerdictChanged,
        location_id.to_string(),
        data(&payload::VerdictChangedData {
            location_id,
            report_id,
            from: change.from,
            to: change.to,
            previous_verdict: change.previous,
            verdict: change.verdict,
            visits: change.visits,
            mean_score: change.mean_score,
        }),
    )
}

/// A location's verdict before and after a release, over the trailing days ending today.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictChange {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub previous: VerdictName,
    pub verdict: VerdictName,
    pub visits: u64,
    pub mean_score: Option<f64>,
}

/// A questionnaire version's event: its key, version and title.
pub fn questionnaire(event_type: EventType, q: &Questionnaire) -> NewEvent {
    NewEvent::new(
        q.org_id,
        event_type,
        q.id.to_string(),
        data(&payload::QuestionnaireEventData {
            questionnaire_id: q.id,
            key: q.key.clone(),
            version: q.version,
            title: q.content.title.clone(),
            status: q.status,
        }),
    )
}

/// A location's event: its code, name, region and whether it is active.
pub fn location(event_type: EventType, location: &Location) -> NewEvent {
    NewEvent::new(
        location.org_id,
        event_type,
        location.id.to_string(),
        data(&payload::LocationEventData {
            location_id: location.id,
            code: location.fields.code.clone(),
            name: location.fields.name.clone(),
            region: location.fields.region.clone(),
            active: location.active,
        }),
    )
}

/// A wave's event: its period, questionnaire key and whether it is closed.
pub fn wave(event_type: EventType, wave: &Wave) -> NewEvent {
    NewEvent::new(
        wave.org_id,
        event_type,
        wave.id.to_string(),
        data(&payload::WaveEventData {
            wave_id: wave.id,
            name: wave.name.clone(),
            starts_on: wave.starts_on,
            ends_on: wave.ends_on,
            questionnaire_key: wave.questionnaire_key.clone(),
            visits_per_location: wave.visits_per_location,
            closed: wave.closed_at.is_some(),
        }),
    )
}

/// An assignment's event: its wave, location, window and status (not who the shopper is).
pub fn assignment(event_type: EventType, a: &Assignment) -> NewEvent {
    NewEvent::new(
        a.org_id,
        event_type,
        a.id.to_string(),
        data(&payload::AssignmentEventData {
            assignment_id: a.id,
            wave_id: a.wave_id,
            location_id: a.location_id,
            visit_from: a.visit_from,
            visit_to: a.visit_to,
            status: a.status,
            has_shopper: a.shopper_id.is_some(),
            report_id: a.report_id,
        }),
    )
}

/// A person erased: their id and role, and the counts of what was emptied or deleted.
pub fn user_erased(
    org: OrgId,
    user: UserId,
    role: crate::auth::model::Role,
    reports: u64,
    files: u64,
) -> NewEvent {
    NewEvent::new(
        org,
        EventType::UserErased,
        user.to_string(),
        data(&payload::UserErasedData {
            user_id: user,
            role,
            reports,
            files,
        }),
    )
}

/// A translation of `q` into `language` stored (`translated` of `total` texts) or removed.
pub fn translation_changed(
    q: &Questionnaire,
    language: &str,
    stored: bool,
    translated: usize,
    total: usize,
) -> NewEvent {
    NewEvent::new(
        q.org_id,
        EventType::QuestionnaireTranslationChanged,
        q.id.to_string(),
        data(&payload::TranslationEventData {
            questionnaire_id: q.id,
            key: q.key.clone(),
            version: q.version,
            language: language.to_string(),
            change: if stored { "stored" } else { "removed" }.to_string(),
            translated: u32::try_from(translated).unwrap_or(u32::MAX),
            total: u32::try_from(total).unwrap_or(u32::MAX),
        }),
    )
}

/// An appeal's event.
pub fn appeal(kind: EventType, a: &Appeal) -> NewEvent {
    NewEvent::new(
        a.org_id,
        kind,
        a.id.to_string(),
        data(&payload::AppealEventData {
            appeal_id: a.id,
            report_id: a.report_id,
            location_id: a.location_id,
            status: a.status,
            questions: u32::try_from(a.questions.len()).unwrap_or(u32::MAX),
            revision: a.amended_revision.unwrap_or(a.revision),
        }),
    )
}

/// An action plan's event; `overdue` names the action that became overdue.
pub fn action_plan(
    kind: EventType,
    plan: &ActionPlan,
    report: Option<ReportId>,
    overdue: Option<&Action>,
) -> NewEvent {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    NewEvent::new(
        plan.org_id,
        kind,
        plan.id.to_string(),
        data(&payload::ActionPlanEventData {
            action_plan_id: plan.id,
            location_id: plan.location_id,
            cause: plan.cause,
            status: plan.status,
            report_id: report,
            actions: count(plan.actions.len()),
            actions_done: count(plan.actions.iter().filter(|a| a.done_at.is_some()).count()),
            overdue_action: overdue.map(|a| a.number),
            due_on: overdue.map(|a| a.due_on),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            assert!(t.as_str().len() <= 64 && t.subject_type().len() <= 32);
        }
        assert_eq!(EventType::parse("report.deleted"), None);
    }
}
