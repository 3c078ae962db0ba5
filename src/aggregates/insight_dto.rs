//! Queries and responses of what changed (`/aggregates/changes`) and what to train
//! (`/aggregates/drivers`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::changes::{Heading, LocationMovement, Measure, Movement, RegionMovement};
use super::compare::{Change, Changes};
use super::drivers::{Driver, Lift};
use super::dto::{LocationRef, RangeResponse};
use super::figures::{Figures, Proportion, VerdictName, VerdictShift};
use super::stats;
use crate::ids::{LocationId, ReportId};

/// The period a range is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ComparisonPeriod)]
pub enum CompareWith {
    /// The same number of days just before the range (the default).
    Previous,
    /// The same dates a year earlier.
    YearAgo,
    /// `compare_from` to `compare_to`.
    Dates,
}

/// A measure whose change orders the locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ChangeMeasure)]
pub enum MeasureName {
    MeanScore,
    ZeroMileRate,
    SecondMileRate,
    CriticalFailureRate,
}

impl From<MeasureName> for Measure {
    fn from(m: MeasureName) -> Self {
        match m {
            MeasureName::MeanScore => Measure::MeanScore,
            MeasureName::ZeroMileRate => Measure::ZeroMileRate,
            MeasureName::SecondMileRate => Measure::SecondMileRate,
            MeasureName::CriticalFailureRate => Measure::CriticalFailureRate,
        }
    }
}

/// Which way of moving lists first: `decline` (a falling mean or second-mile rate, a
/// rising zero-mile or critical-failure rate) or `gain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ChangeDirection)]
pub enum HeadingName {
    Decline,
    Gain,
}

impl From<HeadingName> for Heading {
    fn from(h: HeadingName) -> Self {
        match h {
            HeadingName::Decline => Heading::Decline,
            HeadingName::Gain => Heading::Gain,
        }
    }
}

/// A range and the period it is compared with.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LocationChangesQuery {
    /// First local visit date of the range, inclusive (default: 89 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last local visit date of the range, inclusive (default: today, UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Only reports answering this questionnaire (default: every key).
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// `previous` (default: the same number of days just before), `year_ago`, or `dates`
    /// (`compare_from` and `compare_to`, which imply it). The two periods may not overlap.
    pub compare: Option<CompareWith>,
    /// First date of the comparison period (with `compare=dates`).
    #[param(value_type = Option<String>, format = Date)]
    pub compare_from: Option<NaiveDate>,
    /// Last date of the comparison period (with `compare=dates`), at most 3 years after
    /// `compare_from`.
    #[param(value_type = Option<String>, format = Date)]
    pub compare_to: Option<NaiveDate>,
}

/// What changed across the covered locations.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// First local visit date of the range, inclusive (default: 89 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last local visit date of the range, inclusive (default: today, UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Only reports answering this questionnaire (default: every key).
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// `previous` (default: the same number of days just before), `year_ago`, or `dates`
    /// (`compare_from` and `compare_to`, which imply it). The two periods may not overlap.
    pub compare: Option<CompareWith>,
    /// First date of the comparison period (with `compare=dates`).
    #[param(value_type = Option<String>, format = Date)]
    pub compare_from: Option<NaiveDate>,
    /// Last date of the comparison period (with `compare=dates`), at most 3 years after
    /// `compare_from`.
    #[param(value_type = Option<String>, format = Date)]
    pub compare_to: Option<NaiveDate>,
    /// Only locations of this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
    /// Only locations with this tag.
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// The measure whose change orders the locations (default `mean_score`).
    pub measure: Option<MeasureName>,
    /// `decline` (default: the largest significant decline first) or `gain`.
    pub direction: Option<HeadingName>,
    /// Only locations whose `measure` moved significantly in `direction` (default false).
    pub only_significant: Option<bool>,
    /// Only these locations, by id, comma-separated (at most 100): a page of the leaderboard
    /// gets its changes in one request. The organization and the regions stay whole.
    #[param(max_length = 3700)]
    pub location_ids: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (of the same `measure` and `direction`).
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// The change of one measure: later minus earlier (points for the mean score, a
/// difference of proportions for a rate), its 95 % interval, and whether the interval
/// leaves out zero on samples large enough to judge.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"difference": -6.2, "ci95": [-10.87, -1.53], "significant": true}))]
pub struct MeasureChange {
    pub difference: f64,
    /// Welch's interval for the mean score, Newcombe's hybrid score interval for a rate:
    /// `[low, high]`.
    #[schema(min_items = 2, max_items = 2)]
    pub ci95: [f64; 2],
    /// Unlikely to be chance (at the 5 % level); never on a low sample.
    pub significant: bool,
}

fn measure_change(change: Option<Change>, places: i32) -> Option<MeasureChange> {
    let change = change?;
    let d = change.difference;
    Some(MeasureChange {
        difference: stats::round(d.value, places)?,
        ci95: [
            stats::round(d.ci95.0, places)?,
            stats::round(d.ci95.1, places)?,
        ],
        significant: change.significant,
    })
}

/// How each measure moved. A measure is `null` when a period lacks what it needs (two
/// scored visits for the mean score, one visit for a rate).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "mean_score": {"difference": -6.2, "ci95": [-10.87, -1.53], "significant": true},
    "zero_mile_rate": {"difference": 0.15, "ci95": [0.0212, 0.3391], "significant": true},
    "second_mile_rate": {"difference": -0.05, "ci95": [-0.2378, 0.1391], "significant": false},
    "critical_failure_rate": {"difference": 0.0, "ci95": [-0.1611, 0.1611], "significant": false},
    "low_sample": false
}))]
pub struct MeasureChanges {
    pub mean_score: Option<MeasureChange>,
    pub zero_mile_rate: Option<MeasureChange>,
    pub second_mile_rate: Option<MeasureChange>,
    pub critical_failure_rate: Option<MeasureChange>,
    /// A period has fewer visits than the verdict's minimum sample: nothing is called
    /// significant.
    pub low_sample: bool,
}

impl From<&Changes> for MeasureChanges {
    fn from(c: &Changes) -> Self {
        MeasureChanges {
            mean_score: measure_change(c.mean_score, 2),
            zero_mile_rate: measure_change(c.zero_mile_rate, 4),
            second_mile_rate: measure_change(c.second_mile_rate, 4),
            critical_failure_rate: measure_change(c.critical_failure_rate, 4),
            low_sample: c.low_sample,
        }
    }
}

/// A period of local dates.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeriodResponse {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
}

/// A change of a location's verdict (over the trailing 90 days at the time), made by the
/// release or withdrawal of one visit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerdictChangeResponse {
    pub from: VerdictName,
    pub to: VerdictName,
    /// The local date of the visit that changed it.
    #[schema(value_type = String, format = Date)]
    pub visit_date: NaiveDate,
    pub report_id: ReportId,
    pub changed_at: DateTime<Utc>,
}

impl From<VerdictShift> for VerdictChangeResponse {
    fn from(s: VerdictShift) -> Self {
        VerdictChangeResponse {
            from: s.from,
            to: s.to,
            visit_date: s.visit_date,
            report_id: s.report_id,
            changed_at: s.changed_at,
        }
    }
}

/// Both periods' figures and how each measure moved.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MovementResponse {
    /// The range's figures.
    pub later: Figures,
    /// The comparison period's figures.
    pub earlier: Figures,
    pub changes: MeasureChanges,
}

impl From<Movement> for MovementResponse {
    fn from(m: Movement) -> Self {
        MovementResponse {
            changes: (&m.changes).into(),
            later: m.later,
            earlier: m.earlier,
        }
    }
}

/// One region's movement (its covered locations together).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegionChangeRow {
    /// `null`: the locations without a region.
    pub region: Option<String>,
    pub locations: u64,
    #[serde(flatten)]
    pub movement: MovementResponse,
}

impl From<RegionMovement> for RegionChangeRow {
    fn from(r: RegionMovement) -> Self {
        RegionChangeRow {
            region: r.region,
            locations: r.locations,
            movement: r.movement.into(),
        }
    }
}

/// One location's movement.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationChangeRow {
    pub location: LocationRef,
    #[serde(flatten)]
    pub movement: MovementResponse,
    /// The listing's measure moved significantly in its direction.
    pub significant: bool,
    /// The verdict changes made by visits of the range, in the order they happened.
    pub verdict_changes: Vec<VerdictChangeResponse>,
}

impl LocationChangeRow {
    pub fn new(row: LocationMovement, significant: bool) -> Self {
        LocationChangeRow {
            location: (&row.location).into(),
            movement: row.movement.into(),
            significant,
            verdict_changes: row.verdict_changes.into_iter().map(Into::into).collect(),
        }
    }
}

/// What changed between the range and the comparison period: the organization (the
/// covered locations together), each region, and a page of the locations, the largest
/// significant move first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangesResponse {
    pub range: RangeResponse,
    pub compared_with: PeriodResponse,
    pub organization: MovementResponse,
    /// Every region of the covered locations (not paged), by name; `null` last.
    pub regions: Vec<RegionChangeRow>,
    pub items: Vec<LocationChangeRow>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    pub has_more: bool,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

/// One location's movement between the range and the comparison period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationChangesResponse {
    pub location: LocationRef,
    pub range: RangeResponse,
    pub compared_with: PeriodResponse,
    #[serde(flatten)]
    pub movement: MovementResponse,
    /// The verdict changes made by visits of the range, in the order they happened.
    pub verdict_changes: Vec<VerdictChangeResponse>,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

/// Whose visits show what to train.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DriversQuery {
    /// The questionnaire whose questions are compared (required: questions of different
    /// questionnaires are never mixed).
    #[param(min_length = 1, max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// First local visit date, inclusive (default: 89 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last local visit date, inclusive (default: today, UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Only locations of this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
    /// Only locations with this tag.
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// One location, compared with its peers (the other locations of its region, or of the
    /// organization when it has none).
    #[param(value_type = Option<String>, format = Uuid)]
    pub location_id: Option<LocationId>,
    /// Questions that counted in fewer visits are listed apart (default 20).
    #[param(minimum = 1, maximum = 1000000)]
    pub min_visits: Option<u64>,
}

/// A difference of rates with its Newcombe 95 % interval.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"difference": 0.3714, "ci95": [0.2023, 0.5494], "significant": true}))]
pub struct RateLift {
    pub difference: f64,
    #[schema(min_items = 2, max_items = 2)]
    pub ci95: [f64; 2],
    /// The interval leaves out zero.
    pub significant: bool,
}

fn rate_lift(lift: Option<Lift>) -> Option<RateLift> {
    let lift = lift?;
    let d = lift.difference;
    Some(RateLift {
        difference: stats::round(d.value, 4)?,
        ci95: [stats::round(d.ci95.0, 4)?, stats::round(d.ci95.1, 4)?],
        significant: lift.significant,
    })
}

/// One question's record over the visits where it counted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QuestionDriver {
    pub key: String,
    pub text: String,
    /// Visits where the question counted.
    pub visits: u64,
    /// How often a visit earned its full points (a question expecting "no" passes on
    /// "no"), with Wilson's interval.
    pub pass_rate: Proportion,
    /// The zero-mile rate of the visits that failed it minus that of the visits that passed
    /// it; `null` when all passed or all failed.
    pub zero_mile_lift: Option<RateLift>,
    /// Of the zero-mile visits where it counted, the share that failed it.
    pub share_of_zero_mile: Proportion,
    /// The second-mile rate of the visits that passed it minus that of the visits that
    /// failed it; `null` when all passed or all failed.
    pub second_mile_lift: Option<RateLift>,
    /// With `location_id`: the pass rate at the location's peers (`null` otherwise, and for
    /// managers).
    pub peer_pass_rate: Option<Proportion>,
}

impl From<Driver> for QuestionDriver {
    fn from(d: Driver) -> Self {
        QuestionDriver {
            key: d.key,
            text: d.text,
            visits: d.visits,
            pass_rate: d.pass_rate,
            zero_mile_lift: rate_lift(d.zero_mile),
            share_of_zero_mile: d.share_of_zero_mile,
            second_mile_lift: rate_lift(d.second_mile),
            peer_pass_rate: d.peer_pass_rate,
        }
    }
}

/// A question counted in too few visits to rank.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ThinQuestion {
    pub key: String,
    pub text: String,
    pub visits: u64,
}

/// The peers a location is compared with.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeersResponse {
    /// Their region; `null`: the organization's other locations.
    pub region: Option<String>,
    pub locations: u64,
}

/// What to train: the questions that separate the miles.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DriversResponse {
    pub range: RangeResponse,
    /// With `location_id`: the location.
    pub location: Option<LocationRef>,
    /// With `location_id`: its peers (`null` for managers).
    pub peers: Option<PeersResponse>,
    /// Released visits of the questionnaire in scope.
    pub visits: u64,
    pub zero_mile_visits: u64,
    pub second_mile_visits: u64,
    pub min_visits: u64,
    /// What keeps visits out of the zero mile: the questions by their zero-mile lift, the
    /// significant ones first, largest first.
    pub keeps_out_of_zero_mile: Vec<QuestionDriver>,
    /// What makes the second mile: the questions by their second-mile lift, the significant
    /// ones first, largest first.
    pub makes_second_mile: Vec<QuestionDriver>,
    /// Questions counted in fewer than `min_visits` visits, by key.
    pub too_few_visits: Vec<ThinQuestion>,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

super::as_of::dated_answers!(ChangesResponse, LocationChangesResponse, DriversResponse);
