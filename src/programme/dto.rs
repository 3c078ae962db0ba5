//! Request and response bodies of the programme endpoints.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::commands::{
    AssignmentChange, AssignmentFilter, GeneratePlan, NewWave, PlannedVisit, WaveChange,
};
use super::model::{Assignment, AssignmentStatus, Coverage, ProgrammeSettings, Wave};
use super::rules::LockoutRules;
use super::schedule::Slot;
use crate::ids::{AssignmentId, LocationId, ReportId, UserId, WaveId};
use crate::locations::dto::nullable;

/// The organization's lockout rules and whether reports need an assignment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lockout_days": 90, "max_visits_per_location_per_year": 4, "require_assignment": false}))]
#[schema(as = ProgrammeSettingsBody)]
pub struct SettingsBody {
    /// A shopper's visits to one location are at least this many days apart; `null`: off.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub lockout_days: Option<u32>,
    /// At most this many visits by one shopper to one location in any 365 days; `null`: off.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub max_visits_per_location_per_year: Option<u32>,
    /// Every report must name an assignment (`assignment_id`). Default `false`.
    #[serde(default)]
    pub require_assignment: bool,
}

impl From<ProgrammeSettings> for SettingsBody {
    fn from(s: ProgrammeSettings) -> Self {
        SettingsBody {
            lockout_days: s.rules.lockout_days,
            max_visits_per_location_per_year: s.rules.max_visits_per_location_per_year,
            require_assignment: s.require_assignment,
        }
    }
}

impl From<SettingsBody> for ProgrammeSettings {
    fn from(s: SettingsBody) -> Self {
        ProgrammeSettings {
            rules: LockoutRules {
                lockout_days: s.lockout_days,
                max_visits_per_location_per_year: s.max_visits_per_location_per_year,
            },
            require_assignment: s.require_assignment,
        }
    }
}

/// The locations a shopper is excluded from (they live or work there).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"location_ids": ["01936f5e-8c1a-7b3e-9d2f-4a5b6c7d8e9f"]}))]
pub struct ExclusionsBody {
    #[schema(max_items = 500)]
    pub location_ids: Vec<LocationId>,
}

/// A new wave.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Spring 2027", "starts_on": "2027-03-01", "ends_on": "2027-05-31", "questionnaire_key": "store-visit", "visits_per_location": 3, "region": "Europe"}))]
pub struct CreateWaveRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// First local date of the wave.
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    /// Last local date (inclusive); at most 366 days after `starts_on`.
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
    /// The questionnaire the visits answer (any published version of the key).
    #[schema(min_length = 1, max_length = 64)]
    pub questionnaire_key: String,
    /// Visits each location in scope needs, 1 to 52.
    #[schema(minimum = 1, maximum = 52)]
    pub visits_per_location: u32,
    /// Only the active locations of this region.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub region: Option<String>,
    /// Only the active locations with this tag.
    #[serde(default)]
    #[schema(max_length = 50)]
    pub tag: Option<String>,
}

/// Changes to a wave that has not started: absent fields stay, `null` clears a filter.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Spring 2027 (extended)", "ends_on": "2027-06-15", "tag": null}))]
pub struct UpdateWaveRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<NaiveDate>,
    #[schema(min_length = 1, max_length = 64)]
    pub questionnaire_key: Option<String>,
    #[schema(minimum = 1, maximum = 52)]
    pub visits_per_location: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 50)]
    pub tag: Option<Option<String>>,
}

/// A wave.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WaveResponse {
    pub id: WaveId,
    pub name: String,
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
    pub questionnaire_key: String,
    pub visits_per_location: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `planned` (before its first day: dates and scope may change), `running`, `ended`
    /// (after its last day) or `closed` (by an admin).
    pub status: WaveStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a wave is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaveStatus {
    Planned,
    Running,
    Ended,
    Closed,
}

impl WaveResponse {
    pub fn new(w: Wave, now: DateTime<Utc>) -> Self {
        let status = if w.closed_at.is_some() {
            WaveStatus::Closed
        } else if !w.started(now) {
            WaveStatus::Planned
        } else if super::model::earliest_local_date(now) > w.ends_on {
            WaveStatus::Ended
        } else {
            WaveStatus::Running
        };
        WaveResponse {
            id: w.id,
            name: w.name,
            starts_on: w.starts_on,
            ends_on: w.ends_on,
            questionnaire_key: w.questionnaire_key,
            visits_per_location: w.visits_per_location,
            region: w.region,
            tag: w.tag,
            status,
            closed_at: w.closed_at,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// One planned visit to add to a wave.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"location_id": "01936f5e-8c1a-7b3e-9d2f-4a5b6c7d8e9f", "visit_from": "2027-03-01", "visit_to": "2027-03-14", "slot": "evening", "instructions": "Buy one item and ask about returns."}))]
pub struct NewAssignment {
    pub location_id: LocationId,
    /// The shopper it is given to; absent: open for shoppers to claim.
    #[serde(default)]
    pub shopper_id: Option<UserId>,
    /// Default: the wave's first day.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub visit_from: Option<NaiveDate>,
    /// Default: the wave's last day.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub visit_to: Option<NaiveDate>,
    #[serde(default)]
    pub slot: Option<Slot>,
    /// What the shopper is to do, e.g. "buy one item and ask about returns".
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub instructions: String,
}

/// Planning the rest of a wave at once.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assign": true, "instructions": "Buy one item and ask about returns."}))]
pub struct GenerateRequest {
    /// Give each visit to a shopper who passes the lockout rules (default `true`); `false`
    /// leaves them all open for shoppers to claim.
    #[serde(default)]
    pub assign: Option<bool>,
    /// The shoppers to choose from (default: every active shopper).
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub shopper_ids: Option<Vec<UserId>>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub instructions: String,
}

/// What a generation planned.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GenerateResponse {
    /// The new assignments.
    pub created: Vec<AssignmentResponse>,
    /// Visits no shopper could take under the rules: created open, for shoppers to claim.
    pub unassigned: u32,
    /// Locations in scope and the visits they still lacked before this generation.
    pub locations: u32,
}

/// Changes to an assignment (admins): absent fields stay. `shopper_id` gives it to a
/// shopper (`assigned`) or, `null`, opens it for claiming.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"shopper_id": "01936f5e-8c1a-7b3e-9d2f-4a5b6c7d8e90", "slot": "morning"}))]
pub struct UpdateAssignmentRequest {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub shopper_id: Option<Option<UserId>>,
    #[schema(value_type = Option<String>, format = Date)]
    pub visit_from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub visit_to: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Slot>)]
    pub slot: Option<Option<Slot>>,
    #[schema(max_length = 2000)]
    pub instructions: Option<String>,
}

/// Why a shopper declines.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "I know the staff of this store."}))]
pub struct DeclineRequest {
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// A planned visit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignmentResponse {
    pub id: AssignmentId,
    pub wave_id: WaveId,
    pub location_id: LocationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopper_id: Option<UserId>,
    #[schema(value_type = String, format = Date)]
    pub visit_from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub visit_to: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<Slot>,
    pub instructions: String,
    /// The questionnaire key a report for it answers (the wave's).
    pub questionnaire_key: String,
    pub status: AssignmentStatus,
    /// The report that completed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<ReportId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AssignmentResponse {
    pub fn new(a: Assignment, questionnaire_key: String, now: DateTime<Utc>) -> Self {
        AssignmentResponse {
            status: a.status_at(now),
            id: a.id,
            wave_id: a.wave_id,
            location_id: a.location_id,
            shopper_id: a.shopper_id,
            visit_from: a.visit_from,
            visit_to: a.visit_to,
            slot: a.slot,
            instructions: a.instructions,
            questionnaire_key,
            report_id: a.report_id,
            decline_reason: a.decline_reason,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// Filters of an assignment list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    /// Only this status (`expired`: the overdue ones).
    pub status: Option<AssignmentStatus>,
    /// Only this location.
    pub location_id: Option<LocationId>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// Filters of a shopper's list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyAssignmentQuery {
    /// Only this status.
    pub status: Option<AssignmentStatus>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// Coverage filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// Only locations of this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
}

/// One location's visits in a wave.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoverageRow {
    pub location_id: LocationId,
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Visits the wave asks for.
    pub required: u32,
    /// Released (approved) reports of the wave's questionnaire key at the location with a
    /// visit date inside the wave.
    pub completed: u32,
    /// Planned visits given to a shopper (assigned or accepted, window not ended); absent
    /// for managers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned: Option<u32>,
    /// Planned visits open for claiming; absent for managers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<u32>,
    /// Visits neither completed nor given to a shopper: `required - completed - assigned`,
    /// at least 0; absent for managers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<u32>,
}

/// A wave's coverage: per location and in total.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoverageResponse {
    pub wave_id: WaveId,
    #[schema(max_items = 10000)]
    pub locations: Vec<CoverageRow>,
    pub totals: CoverageTotals,
}

/// Sums over the rows.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CoverageTotals {
    pub locations: u32,
    pub required: u32,
    pub completed: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<u32>,
}

impl From<Coverage> for CoverageResponse {
    fn from(c: Coverage) -> Self {
        let shown = |n: u32| c.planning_shown.then_some(n);
        let mut totals = CoverageTotals {
            assigned: shown(0),
            open: shown(0),
            gap: shown(0),
            ..CoverageTotals::default()
        };
        let add = |total: &mut Option<u32>, n: u32| {
            if let Some(t) = total {
                *t += n;
            }
        };
        let mut locations = Vec::with_capacity(c.locations.len());
        for l in c.locations {
            let gap = l.gap();
            totals.locations += 1;
            totals.required += l.required;
            totals.completed += l.completed;
            add(&mut totals.assigned, l.assigned);
            add(&mut totals.open, l.open);
            add(&mut totals.gap, gap);
            locations.push(CoverageRow {
                location_id: l.location_id,
                code: l.code,
                name: l.name,
                region: l.region,
                required: l.required,
                completed: l.completed,
                assigned: shown(l.assigned),
                open: shown(l.open),
                gap: shown(gap),
            });
        }
        CoverageResponse {
            wave_id: c.wave_id,
            locations,
            totals,
        }
    }
}

// ------------------------------------------------------------ bodies into commands

impl From<CreateWaveRequest> for NewWave {
    fn from(r: CreateWaveRequest) -> Self {
        NewWave {
            name: r.name,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            questionnaire_key: r.questionnaire_key,
            visits_per_location: r.visits_per_location,
            region: r.region,
            tag: r.tag,
        }
    }
}

impl From<UpdateWaveRequest> for WaveChange {
    fn from(r: UpdateWaveRequest) -> Self {
        WaveChange {
            name: r.name,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            questionnaire_key: r.questionnaire_key,
            visits_per_location: r.visits_per_location,
            region: r.region,
            tag: r.tag,
        }
    }
}

impl From<NewAssignment> for PlannedVisit {
    fn from(r: NewAssignment) -> Self {
        PlannedVisit {
            location_id: r.location_id,
            shopper_id: r.shopper_id,
            visit_from: r.visit_from,
            visit_to: r.visit_to,
            slot: r.slot,
            instructions: r.instructions,
        }
    }
}

impl From<GenerateRequest> for GeneratePlan {
    fn from(r: GenerateRequest) -> Self {
        GeneratePlan {
            assign: r.assign,
            shopper_ids: r.shopper_ids,
            instructions: r.instructions,
        }
    }
}

impl From<UpdateAssignmentRequest> for AssignmentChange {
    fn from(r: UpdateAssignmentRequest) -> Self {
        AssignmentChange {
            shopper_id: r.shopper_id,
            visit_from: r.visit_from,
            visit_to: r.visit_to,
            slot: r.slot,
            instructions: r.instructions,
        }
    }
}

impl From<AssignmentQuery> for AssignmentFilter {
    fn from(q: AssignmentQuery) -> Self {
        // The page's `limit` and `cursor` are read by the handler.
        AssignmentFilter {
            status: q.status,
            location_id: q.location_id,
        }
    }
}

/// Page of the locations a shopper may visit.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EligibleLocationsQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
    /// Only this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
}

/// An active location and whether the shopper may visit it today.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"location_id": "0190c3e4-8f4b-7c2a-9d1e-3b5a6c7d8e9f", "code": "LIS-001", "name": "Chiado", "region": "Lisbon", "timezone": "Europe/Lisbon", "latitude": 38.7111, "longitude": -9.1421, "eligible": false, "blocked_by": "lockout_period", "frees_on": "2027-02-03"}))]
pub struct EligibleLocation {
    pub location_id: LocationId,
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// IANA time zone: "today" is the location's own day.
    pub timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// A visit today passes the organization's rules.
    pub eligible: bool,
    /// The rule a visit today breaks: `shopper_excluded`, `lockout_period` or
    /// `yearly_visit_limit` (the code the submission would answer with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// The first day a visit passes the rule again (absent for an exclusion, which an admin
    /// lifts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frees_on: Option<NaiveDate>,
}
