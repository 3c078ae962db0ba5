//! The `data` of each event, one type per kind of subject. Events are written from these
//! types and the document describes them from the same types, so what a feed reader or a
//! webhook receives cannot drift from what the document promises. Ids, statuses, dates and
//! scores only: never a name, email, note or comment of a shopper or of staff.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::aggregates::figures::VerdictName;
use crate::ids::{
    ActionPlanId, AppealId, AssignmentId, AttachmentId, LocationId, QuestionnaireId, ReportId,
    UserId, WaveId, WebhookId,
};
use crate::improvement::appeal::AppealStatus;
use crate::improvement::plan::{Cause, PlanStatus};
use crate::programme::model::AssignmentStatus;
use crate::questionnaires::model::Status as QuestionnaireStatus;
use crate::reports::model::ReportStatus;
use crate::reports::scoring::MileLevel;

/// A report's event (`report.*`): where, what, its revision, status and scores.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"report_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "location_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "questionnaire_id": "0191d2e3-4f5a-7b6c-8d9e-0f1a2b3c4d5e", "questionnaire_key": "store-visit", "assignment_id": null, "status": "approved", "revision": 1, "visit_date": "2026-11-28", "score": 91.5, "first_tier": 100.0, "second_tier": 75.0, "mile_level": "second", "critical_failures": 0}))]
pub struct ReportEventData {
    pub report_id: ReportId,
    pub location_id: LocationId,
    pub questionnaire_id: QuestionnaireId,
    pub questionnaire_key: String,
    /// The assignment the report completes, if it names one.
    #[schema(required = true)]
    pub assignment_id: Option<AssignmentId>,
    pub status: ReportStatus,
    pub revision: i32,
    /// The visit's date at the location.
    pub visit_date: NaiveDate,
    /// 0 to 100; `null` when nothing was scored.
    #[schema(required = true)]
    pub score: Option<f64>,
    #[schema(required = true)]
    pub first_tier: Option<f64>,
    #[schema(required = true)]
    pub second_tier: Option<f64>,
    pub mile_level: MileLevel,
    /// How many critical questions failed.
    pub critical_failures: u32,
}

/// An uploaded file's event (`attachment.uploaded`): its report, type, size and checksum,
/// never the file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"attachment_id": "0193a1b2-9d8e-7f6a-8b5c-4d3e2f1a0b9c", "report_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "revision": 1, "content_type": "image/jpeg", "size": 48213, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}))]
pub struct AttachmentEventData {
    pub attachment_id: AttachmentId,
    pub report_id: ReportId,
    pub revision: i32,
    /// `image/jpeg`, `image/png`, `image/heic`, `image/webp` or `application/pdf`.
    pub content_type: String,
    /// Bytes stored.
    pub size: i64,
    /// SHA-256 of the stored file, hex. Absent from events written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A location's 90-day verdict changed (`location.verdict_changed`) because a report was
/// released or withdrawn.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"location_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "report_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "from": "2026-09-09", "to": "2026-12-07", "previous_verdict": "first", "verdict": "second", "visits": 12, "mean_score": 88.4}))]
pub struct VerdictChangedData {
    pub location_id: LocationId,
    /// The report whose release (or withdrawal) changed it.
    pub report_id: ReportId,
    /// First day of the trailing range.
    pub from: NaiveDate,
    /// Last day of the trailing range (today at the location).
    pub to: NaiveDate,
    pub previous_verdict: VerdictName,
    pub verdict: VerdictName,
    pub visits: u64,
    #[schema(required = true)]
    pub mean_score: Option<f64>,
}

/// A questionnaire version's event (`questionnaire.*`): its key, version and title.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"questionnaire_id": "0191d2e3-4f5a-7b6c-8d9e-0f1a2b3c4d5e", "key": "store-visit", "version": 3, "title": "Store visit", "status": "published"}))]
pub struct QuestionnaireEventData {
    pub questionnaire_id: QuestionnaireId,
    pub key: String,
    pub version: i32,
    pub title: String,
    pub status: QuestionnaireStatus,
}

/// A translation of a questionnaire version was stored or removed
/// (`questionnaire.translation_changed`): the version, the language and how much of the
/// version it covers (0 of the total once removed). The texts are not in the event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"questionnaire_id": "0191d2e3-4f5a-7b6c-8d9e-0f1a2b3c4d5e", "key": "store-visit", "version": 3, "language": "de", "change": "stored", "translated": 42, "total": 45}))]
pub struct TranslationEventData {
    pub questionnaire_id: QuestionnaireId,
    pub key: String,
    pub version: i32,
    pub language: String,
    /// `stored` or `removed`.
    #[schema(example = "stored")]
    pub change: String,
    pub translated: u32,
    pub total: u32,
}

/// A location's event (`location.created`, `.updated`, `.deactivated`): its code, name,
/// region and whether it is active.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"location_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "code": "LIS-001", "name": "Chiado", "region": "Lisbon", "active": true}))]
pub struct LocationEventData {
    pub location_id: LocationId,
    pub code: String,
    pub name: String,
    #[schema(required = true)]
    pub region: Option<String>,
    pub active: bool,
}

/// A wave's event (`wave.*`): its period, questionnaire key and whether it is closed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"wave_id": "0192e3f4-5a6b-7c8d-9e0f-1a2b3c4d5e6f", "name": "Spring 2027", "starts_on": "2027-03-01", "ends_on": "2027-05-31", "questionnaire_key": "store-visit", "visits_per_location": 2, "closed": false}))]
pub struct WaveEventData {
    pub wave_id: WaveId,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub questionnaire_key: String,
    pub visits_per_location: u32,
    pub closed: bool,
}

/// An assignment's event (`assignment.*`): its wave, location, window and status, never
/// who the shopper is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"assignment_id": "0192e3f4-6b7c-7d8e-9f0a-1b2c3d4e5f6a", "wave_id": "0192e3f4-5a6b-7c8d-9e0f-1a2b3c4d5e6f", "location_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "visit_from": "2027-03-08", "visit_to": "2027-03-14", "status": "assigned", "has_shopper": true, "report_id": null}))]
pub struct AssignmentEventData {
    pub assignment_id: AssignmentId,
    pub wave_id: WaveId,
    pub location_id: LocationId,
    pub visit_from: NaiveDate,
    pub visit_to: NaiveDate,
    pub status: AssignmentStatus,
    pub has_shopper: bool,
    /// The report that completed it.
    #[schema(required = true)]
    pub report_id: Option<ReportId>,
}

/// A ping (`ping`): sent to one webhook on request, never in the feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"webhook_id": "0192f4a5-6b7c-7d8e-9f0a-1b2c3d4e5f6a"}))]
pub struct PingData {
    pub webhook_id: WebhookId,
}

/// An action plan's event (`action_plan.*`): its location, cause and status, how many of its
/// actions are done; for `opened`, the visit that opened it (none when opened by hand); for
/// `overdue`, the action that became overdue and its due date. Never its texts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"action_plan_id": "0193b2c3-1d2e-7f3a-8b4c-5d6e7f8a9b0c", "location_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "cause": "zero_mile", "status": "planned", "report_id": null, "actions": 3, "actions_done": 1, "overdue_action": 2, "due_on": "2026-12-05"}))]
pub struct ActionPlanEventData {
    pub action_plan_id: ActionPlanId,
    pub location_id: LocationId,
    pub cause: Cause,
    pub status: PlanStatus,
    #[schema(required = true)]
    pub report_id: Option<ReportId>,
    pub actions: u32,
    pub actions_done: u32,
    /// `action_plan.overdue`: the number of the action that became overdue.
    #[schema(required = true)]
    pub overdue_action: Option<u32>,
    /// `action_plan.overdue`: its due date (at the location).
    #[schema(required = true)]
    pub due_on: Option<NaiveDate>,
}

/// An appeal's event (`appeal.*`): its report, location and status, how many answers it
/// disputes, and the report's revision (after an amendment, the amended one). Never the
/// appellant, the reason or the notes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"appeal_id": "0193c4d5-2e3f-7a4b-8c5d-6e7f8a9b0c1d", "report_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "location_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "status": "amended", "questions": 1, "revision": 2}))]
pub struct AppealEventData {
    pub appeal_id: AppealId,
    pub report_id: ReportId,
    pub location_id: LocationId,
    pub status: AppealStatus,
    pub questions: u32,
    pub revision: i32,
}

/// A person erased (`user.erased`): who, as their id and role, and how many of their reports
/// were emptied of free text. Never their email, name or anything they wrote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"user_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "role": "shopper", "reports": 14, "files": 3}))]
pub struct UserErasedData {
    pub user_id: UserId,
    pub role: crate::auth::model::Role,
    /// Their reports, kept with their scores and emptied of free text.
    pub reports: u64,
    /// Photos of staff in those reports, deleted.
    pub files: u64,
}
