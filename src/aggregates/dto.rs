//! Queries and responses of the aggregate endpoints.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::figures::{Figures, VerdictName};
use super::order::{Column, Direction};
use super::recognition::Moment;
use super::service::{self, LeaderboardSort, Overview, SectionMean, Standing, VerdictCounts};
use super::stats::VerdictRule;
use crate::ids::{LocationId, ReportId};
use crate::locations::model::{Location, LocationBrief};

/// The range of an aggregate.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First local visit date, inclusive (default: 89 days before `to`); 1900-01-01 to
    /// 9999-12-31.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last local visit date, inclusive (default: today, UTC); 1900-01-01 to 9999-12-31, at
    /// most 3 years after `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Only reports answering this questionnaire (default: every key).
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
}

/// How the leaderboard is ordered; the best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RankingMeasure)]
pub enum SortBy {
    /// Highest mean score first (the default).
    MeanScore,
    /// Highest second-mile rate first.
    SecondMileRate,
    /// Lowest zero-mile rate first.
    ZeroMileRate,
    /// Most visits first.
    Visits,
}

impl From<SortBy> for LeaderboardSort {
    fn from(s: SortBy) -> Self {
        match s {
            SortBy::MeanScore => LeaderboardSort::MeanScore,
            SortBy::SecondMileRate => LeaderboardSort::SecondMileRate,
            SortBy::ZeroMileRate => LeaderboardSort::ZeroMileRate,
            SortBy::Visits => LeaderboardSort::Visits,
        }
    }
}

/// Which locations an organization-wide aggregate covers, and over which range.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// Only locations of this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
    /// Only locations with this tag.
    #[param(max_length = 50)]
    pub tag: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    #[param(max_length = 100)]
    pub region: Option<String>,
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// `mean_score` (default), `second_mile_rate`, `zero_mile_rate` or `visits`.
    pub sort: Option<SortBy>,
    /// The column the rows are listed by (default `rank`, which follows `sort`); a missing
    /// value lists last either way, ties go by rank in the same direction, then code.
    pub order_by: Option<Column>,
    /// `asc` (default) or `desc`.
    pub dir: Option<Direction>,
    /// Leave out locations with fewer visits (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub min_visits: Option<u64>,
    /// Only locations with this verdict.
    pub verdict: Option<VerdictName>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// The leaderboard's filters and order, for the CSV (which has no pages).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardCsvQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    #[param(max_length = 100)]
    pub region: Option<String>,
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// `mean_score` (default), `second_mile_rate`, `zero_mile_rate` or `visits`.
    pub sort: Option<SortBy>,
    /// The column the rows are listed by (default `rank`, which follows `sort`); a missing
    /// value lists last either way, ties go by rank in the same direction, then code.
    pub order_by: Option<Column>,
    /// `asc` (default) or `desc`.
    pub dir: Option<Direction>,
    /// Leave out locations with fewer visits (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub min_visits: Option<u64>,
    /// Only locations with this verdict.
    pub verdict: Option<VerdictName>,
}

/// A section's mean score.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SectionMeanResponse {
    pub key: String,
    pub title: String,
    /// Mean of the section's scores (percent), `null` when no visit scored it.
    pub mean_score: Option<f64>,
    /// Visits that scored the section.
    pub n: u64,
}

impl From<SectionMean> for SectionMeanResponse {
    fn from(s: SectionMean) -> Self {
        SectionMeanResponse {
            key: s.key,
            title: s.title,
            mean_score: s.mean_score,
            n: s.n,
        }
    }
}

/// The range an aggregate covers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RangeResponse {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// `null`: every questionnaire.
    pub questionnaire_key: Option<String>,
}

impl From<service::Range> for RangeResponse {
    fn from(r: service::Range) -> Self {
        RangeResponse {
            from: r.from,
            to: r.to,
            questionnaire_key: r.questionnaire_key,
        }
    }
}

/// A location as the aggregates name it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationRef {
    pub id: LocationId,
    pub code: String,
    pub name: String,
    pub region: Option<String>,
}

impl From<&LocationBrief> for LocationRef {
    fn from(l: &LocationBrief) -> Self {
        LocationRef {
            id: l.id,
            code: l.code.clone(),
            name: l.name.clone(),
            region: l.region.clone(),
        }
    }
}

impl From<&Location> for LocationRef {
    fn from(l: &Location) -> Self {
        LocationRef {
            id: l.id,
            code: l.fields.code.clone(),
            name: l.fields.name.clone(),
            region: l.fields.region.clone(),
        }
    }
}

/// A location's figures over a range.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationSummaryResponse {
    pub location: LocationRef,
    pub range: RangeResponse,
    pub figures: Figures,
    pub sections: Vec<SectionMeanResponse>,
    /// The latest local date of a released visit in the range.
    #[schema(value_type = Option<String>, format = Date)]
    pub last_visit_date: Option<NaiveDate>,
    pub verdict_rule: VerdictRuleResponse,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

impl LocationSummaryResponse {
    pub fn of(s: service::LocationSummary, rule: &VerdictRule) -> Self {
        LocationSummaryResponse {
            location: (&s.location).into(),
            range: s.range.into(),
            figures: s.figures,
            sections: s.sections.into_iter().map(Into::into).collect(),
            last_visit_date: s.last_visit_date,
            verdict_rule: rule.into(),
            as_of: String::new(),
        }
    }
}

/// One location on the leaderboard.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeaderboardRow {
    /// Standard competition ranking: ties share a rank (1, 2, 2, 4).
    pub rank: u64,
    pub location: LocationRef,
    pub figures: Figures,
}

impl From<Standing> for LeaderboardRow {
    fn from(s: Standing) -> Self {
        LeaderboardRow {
            rank: s.rank,
            location: (&s.location).into(),
            figures: s.figures,
        }
    }
}

/// How many locations got each verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerdictCountsResponse {
    pub zero: u64,
    pub first: u64,
    pub second: u64,
    pub insufficient_data: u64,
}

impl From<VerdictCounts> for VerdictCountsResponse {
    fn from(v: VerdictCounts) -> Self {
        VerdictCountsResponse {
            zero: v.zero,
            first: v.first,
            second: v.second,
            insufficient_data: v.insufficient_data,
        }
    }
}

/// The organization's figures, its locations' verdicts and its section means.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverviewResponse {
    pub range: RangeResponse,
    pub figures: Figures,
    pub verdicts: VerdictCountsResponse,
    pub sections: Vec<SectionMeanResponse>,
    pub verdict_rule: VerdictRuleResponse,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

impl OverviewResponse {
    pub fn of(o: Overview, rule: &VerdictRule) -> Self {
        OverviewResponse {
            range: o.range.into(),
            figures: o.figures,
            verdicts: o.verdicts.into(),
            sections: o.sections.into_iter().map(Into::into).collect(),
            verdict_rule: rule.into(),
            as_of: String::new(),
        }
    }
}

/// How the verdicts are given (the server's settings), so a reader can say why a location
/// has its verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"min_visits": 5, "zero_mile_lower_bound": 0.1, "second_mile_lower_bound": 0.5}))]
pub struct VerdictRuleResponse {
    /// Fewer visits than this: `insufficient_data`, and nothing is called significant.
    pub min_visits: u64,
    /// Zero mile when the lower end of the zero-mile rate's 95 % Wilson interval reaches this
    /// (0 to 1).
    pub zero_mile_lower_bound: f64,
    /// Second mile when no visit is zero mile and the lower end of the second-mile rate's
    /// 95 % Wilson interval reaches this (0 to 1); first mile otherwise.
    pub second_mile_lower_bound: f64,
}

impl From<&VerdictRule> for VerdictRuleResponse {
    fn from(r: &VerdictRule) -> Self {
        VerdictRuleResponse {
            min_visits: r.min_sample,
            zero_mile_lower_bound: r.zero_lower,
            second_mile_lower_bound: r.second_lower,
        }
    }
}

/// Week (ISO, Monday to Sunday) or month buckets of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BucketBy {
    Week,
    Month,
}

impl From<BucketBy> for service::BucketSize {
    fn from(b: BucketBy) -> Self {
        match b {
            BucketBy::Week => service::BucketSize::Week,
            BucketBy::Month => service::BucketSize::Month,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// `week` (default) or `month`.
    pub bucket: Option<BucketBy>,
}

/// One bucket of a trend: its local dates (clipped to the range) and figures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrendBucketResponse {
    #[schema(value_type = String, format = Date)]
    pub start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub end: NaiveDate,
    pub figures: Figures,
}

/// A location's figures bucket by bucket, empty buckets included.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrendResponse {
    pub location: LocationRef,
    pub range: RangeResponse,
    pub bucket: BucketBy,
    pub buckets: Vec<TrendBucketResponse>,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageTrendQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    #[param(max_length = 100)]
    pub region: Option<String>,
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// `week` (default) or `month`.
    pub bucket: Option<BucketBy>,
}

/// The covered locations' figures together, bucket by bucket, empty buckets included.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoverageTrendResponse {
    pub range: RangeResponse,
    pub bucket: BucketBy,
    pub buckets: Vec<TrendBucketResponse>,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegionsQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// `mean_score` (default), `second_mile_rate`, `zero_mile_rate` or `visits`.
    pub sort: Option<SortBy>,
}

/// One region's figures and rank.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegionRow {
    pub rank: u64,
    /// `null`: the locations without a region.
    pub region: Option<String>,
    /// Locations in the region.
    pub locations: u64,
    pub figures: Figures,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegionsResponse {
    pub range: RangeResponse,
    pub items: Vec<RegionRow>,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuestionsQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    #[param(max_length = 100)]
    pub region: Option<String>,
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// Only this location.
    pub location_id: Option<LocationId>,
}

/// A question's record over the covered visits.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QuestionRow {
    pub key: String,
    pub text: String,
    /// Visits where the question counted (visible, answered, not N/A, scored).
    pub n: u64,
    /// Visits where it earned all its points (a bonus question: any points).
    pub full_points: super::figures::Proportion,
    /// Points earned over points possible, percent.
    pub mean_points: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QuestionsResponse {
    pub range: RangeResponse,
    pub items: Vec<QuestionRow>,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

/// Which moments the recognition feed shows.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecognitionQuery {
    /// First local visit date, inclusive (default: 89 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last local visit date, inclusive (default: today, UTC); at most 3 years after `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Only visits answering this questionnaire.
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// Only this location's visits.
    #[param(value_type = Option<String>, format = Uuid)]
    pub location_id: Option<LocationId>,
    /// Only visits of locations in this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// A second-tier behaviour a visit met.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BehaviourResponse {
    /// The question's key.
    pub question: String,
    /// The question as the shopper read it, e.g. "Did an employee use or remember your name?".
    pub text: String,
    /// The shopper's comment on it.
    pub comment: Option<String>,
}

/// A released second-mile visit: what the staff did beyond expectations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecognitionMoment {
    pub report_id: ReportId,
    pub location: LocationRef,
    /// The visit's local date.
    pub visit_date: NaiveDate,
    pub questionnaire_key: String,
    /// Overall percent.
    pub score: Option<f64>,
    /// Second-tier percent.
    pub second_tier: Option<f64>,
    /// The second-tier behaviours met, in questionnaire order.
    pub behaviours: Vec<BehaviourResponse>,
    /// The shopper's own words: the answer to the questionnaire's `highlights` question.
    pub highlights: Option<String>,
    /// Staff the shopper named, by first name only; empty unless the organization allows
    /// names (`PUT /api/v1/organization/settings`, `recognition_names`).
    pub staff: Vec<StaffRecognized>,
}

/// A member of staff to thank.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffRecognized {
    pub first_name: String,
    pub role: Option<String>,
}

impl From<Moment> for RecognitionMoment {
    fn from(m: Moment) -> Self {
        RecognitionMoment {
            report_id: m.report.id,
            location: LocationRef::from(&m.location),
            visit_date: m.report.visit_local_date,
            questionnaire_key: m.report.questionnaire_key.clone(),
            score: m.report.document.score.overall,
            second_tier: m.report.document.score.second_tier,
            behaviours: m
                .behaviours
                .into_iter()
                .map(|b| BehaviourResponse {
                    question: b.question,
                    text: b.text,
                    comment: b.comment,
                })
                .collect(),
            highlights: m.highlights,
            staff: m
                .staff
                .into_iter()
                .map(|(first_name, role)| StaffRecognized { first_name, role })
                .collect(),
        }
    }
}

super::as_of::dated_answers!(
    LocationSummaryResponse,
    OverviewResponse,
    TrendResponse,
    CoverageTrendResponse,
    RegionsResponse,
    QuestionsResponse,
);
