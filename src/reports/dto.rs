//! Response bodies and queries of the report endpoints.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{
    CheckIn, ClientInfo, Flag, FlagCode, Report, ReportStatus, StaffObserved, View, Visit,
};
use super::plausibility::Plausibility;
use super::scoring::{Answer, MileLevel, Score};
use crate::db::reports::ReportFilter;
use crate::ids::{AttachmentId, LocationId, QuestionnaireId, ReportId, UserId};
use crate::query::{QuestionnaireKey, Region, VisitDates};
use crate::reports::workflow::{Action, Transition};
use crate::validation::{Violation, Violations};

/// A visit report with its score, as the caller may see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportResponse {
    #[schema(value_type = String, format = Uuid)]
    pub id: ReportId,
    pub status: ReportStatus,
    pub revision: i32,
    pub location_id: LocationId,
    pub questionnaire_id: QuestionnaireId,
    pub questionnaire_key: String,
    /// Absent for managers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopper_id: Option<UserId>,
    /// Absent for managers (they see `visit_date` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<Visit>,
    /// The visit's date in the location's time zone.
    #[schema(value_type = String, format = Date)]
    pub visit_date: NaiveDate,
    pub answers: Vec<Answer>,
    pub narrative: String,
    /// The language the shopper answered in, as their app said (absent when it did not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "ja")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in: Option<CheckIn>,
    /// Absent when redacted (see `staff_observed_redacted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_observed: Option<Vec<StaffObserved>>,
    pub staff_observed_redacted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    /// Plausibility flags for reviewers (including `missing_attachments` while files the
    /// report names have not arrived); absent for managers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<Flag>>,
    /// How plausible the visit is, from 0 to 100, with the reasons that lowered it (see the
    /// README's "Plausibility"); for admins and reviewers only, and absent for reports
    /// stored before it was assessed. No reason refuses a report: reviewers decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plausibility: Option<Plausibility>,
    /// How many files (photos and the receipt) this revision names, and how many of them
    /// have been uploaded (`GET /api/v1/reports/{id}/attachments` lists them).
    pub attachments: AttachmentCounts,
    pub score: Score,
    /// The latest review decision that carries a note (e.g. why the report was returned);
    /// absent for managers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_review: Option<ReviewNote>,
    /// When the report was first received; managers see only the day (midnight UTC).
    pub created_at: DateTime<Utc>,
    /// When the report last changed; managers see only the day (midnight UTC).
    pub updated_at: DateTime<Utc>,
}

/// The start (UTC) of the day of `at`: what a manager sees of a report's timestamps, so the
/// exact time of a visit cannot be inferred from when it was received.
pub fn day_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive().and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Files a report names versus files received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentCounts {
    #[schema(maximum = 20)]
    pub expected: u32,
    #[schema(maximum = 20)]
    pub received: u32,
}

/// A reviewer's decision and note, as the shopper's app shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewNote {
    pub action: Action,
    pub status: ReportStatus,
    pub note: String,
    pub at: DateTime<Utc>,
}

impl ReportResponse {
    /// Adds the latest review note, unless the view hides it.
    pub fn with_last_review(mut self, transition: Option<&Transition>, view: View) -> Self {
        if view != View::Manager {
            self.last_review = transition.and_then(|t| {
                Some(ReviewNote {
                    action: t.action,
                    status: t.to,
                    note: t.note.clone()?,
                    at: t.at,
                })
            });
        }
        self
    }

    /// A report of a list: as `view` sees it, with its latest review note from `notes` and
    /// its received files from `received` (both keyed by report, as the list read them).
    pub fn listed(
        report: Report,
        view: View,
        notes: &std::collections::HashMap<ReportId, Transition>,
        received: &std::collections::HashMap<ReportId, Vec<AttachmentId>>,
    ) -> Self {
        let id = report.id;
        let files = received.get(&id).map_or(&[][..], Vec::as_slice);
        ReportResponse::new(report, view, files).with_last_review(notes.get(&id), view)
    }

    /// The report as `view` sees it; `received` are the ids of the files uploaded for it.
    pub fn new(report: Report, view: View, received: &[AttachmentId]) -> Self {
        let doc = report.document;
        let sub = doc.submission;
        let manager = view == View::Manager;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let attachments = AttachmentCounts {
            expected: count(doc.attachments.len()),
            received: count(
                doc.attachments
                    .iter()
                    .filter(|f| received.contains(&f.id))
                    .count(),
            ),
        };
        let mut flags = doc.flags;
        if attachments.received < attachments.expected {
            flags.push(Flag {
                code: FlagCode::MissingAttachments,
                message: format!(
                    "{} of the {} files the report names have not been uploaded yet",
                    attachments.expected - attachments.received,
                    attachments.expected
                ),
            });
        }
        let staff_hidden = !matches!(view, View::Full | View::Own);
        ReportResponse {
            id: report.id,
            status: report.status,
            revision: report.revision,
            location_id: report.location_id,
            questionnaire_id: report.questionnaire_id,
            questionnaire_key: report.questionnaire_key,
            shopper_id: (!manager).then_some(report.shopper_id),
            visit: (!manager).then_some(sub.visit),
            visit_date: report.visit_local_date,
            answers: sub.answers,
            narrative: sub.narrative,
            language: sub
                .language
                .map(|l| crate::questionnaires::language::canonical_tag(&l).unwrap_or(l)),
            check_in: if manager { None } else { sub.check_in },
            staff_observed: (!staff_hidden).then_some(sub.staff_observed),
            staff_observed_redacted: staff_hidden,
            client: if manager { None } else { sub.client },
            flags: (!manager).then_some(flags),
            plausibility: if view == View::Full {
                doc.plausibility
            } else {
                None
            },
            attachments,
            score: doc.score,
            last_review: None,
            created_at: if manager {
                day_of(report.created_at)
            } else {
                report.created_at
            },
            updated_at: if manager {
                day_of(report.updated_at)
            } else {
                report.updated_at
            },
        }
    }
}

/// Order of a report list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ReportOrder)]
pub enum Sort {
    /// Oldest submission first (the review queue).
    Oldest,
    Newest,
    /// Least plausible first, reports stored before plausibility was assessed last; then
    /// oldest first (admins and reviewers only).
    LeastPlausible,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListReportsQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
    pub location_id: Option<LocationId>,
    /// Reports of locations in this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
    pub status: Option<ReportStatus>,
    pub mile_level: Option<MileLevel>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// First local visit date, inclusive (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub visit_from: Option<NaiveDate>,
    /// Last local visit date, inclusive (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub visit_to: Option<NaiveDate>,
    /// Reports changed at or after this time (RFC 3339), for incremental sync.
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<DateTime<Utc>>,
    /// `oldest` (default) or `newest` submission first.
    pub sort: Option<Sort>,
}

/// The filters the report list and the CSV export share, as asked.
pub struct ReportFilterParams {
    pub location_id: Option<LocationId>,
    pub region: Option<String>,
    pub status: Option<ReportStatus>,
    pub mile_level: Option<MileLevel>,
    pub questionnaire_key: Option<String>,
    pub visit_from: Option<NaiveDate>,
    pub visit_to: Option<NaiveDate>,
    pub updated_since: Option<DateTime<Utc>>,
}

impl TryFrom<ReportFilterParams> for ReportFilter {
    type Error = Vec<Violation>;

    /// Every parameter checked once, every problem listed.
    fn try_from(p: ReportFilterParams) -> Result<Self, Vec<Violation>> {
        let mut violations = Violations::default();
        let region = violations.take(Region::parse(p.region));
        let key = violations.take(QuestionnaireKey::parse(p.questionnaire_key));
        let dates = violations.take(VisitDates::parse(p.visit_from, p.visit_to));
        violations.into_result(ReportFilter {
            location: p.location_id,
            region: region.map(Region::into_string),
            statuses: p.status.into_iter().collect(),
            mile_level: p.mile_level,
            questionnaire_key: key.map(QuestionnaireKey::into_string),
            visit_from: dates.from,
            visit_to: dates.to,
            updated_since: p.updated_since,
            shopper: None,
            manager: None,
        })
    }
}

/// The [`ReportFilterParams`] of a query that has their fields (the list's and the export's),
/// taken out of it.
macro_rules! report_filter_params {
    ($query:expr) => {
        $crate::reports::dto::ReportFilterParams {
            location_id: $query.location_id,
            region: $query.region.take(),
            status: $query.status,
            mile_level: $query.mile_level,
            questionnaire_key: $query.questionnaire_key.take(),
            visit_from: $query.visit_from,
            visit_to: $query.visit_to,
            updated_since: $query.updated_since,
        }
    };
}
pub(crate) use report_filter_params;

impl ListReportsQuery {
    /// The filters of this query (paging and order aside).
    pub fn filter_params(&mut self) -> ReportFilterParams {
        report_filter_params!(self)
    }
}
