//! The request and response types of the figures' trust: rater effects per shopper and
//! what moved a location's figures since an `as_of`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{LocationRef, RangeResponse};
use super::moves::{Effect, MoveKind, Sums};
use super::raters::{Lean, RaterEffect};
use crate::ids::{ReportId, UserId};

/// One shopper's rater effect.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"shopper_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "visits": 14,
    "compared_visits": 11, "effect": -9.4, "effect_ci95": [-13.1, -5.7], "flag": "harsh"}))]
pub struct ShopperEffect {
    #[schema(value_type = String, format = Uuid)]
    pub shopper_id: UserId,
    /// Their released, scored visits in the range.
    pub visits: u64,
    /// Those with another shopper's visit to the same location in the same quarter.
    pub compared_visits: u64,
    /// Mean difference (points) between their scores and the other shoppers' at the same
    /// locations in the same quarter; `null` without a compared visit.
    #[schema(required = true)]
    pub effect: Option<f64>,
    /// Student-t 95 % interval of the effect (2 compared visits or more).
    #[schema(required = true, value_type = Option<Vec<f64>>, min_items = 2, max_items = 2)]
    pub effect_ci95: Option<[f64; 2]>,
    /// `harsh` or `lenient` when the interval excludes 0 and the effect is at least 5 points
    /// over at least 8 compared visits; `null` otherwise.
    #[schema(required = true)]
    pub flag: Option<Lean>,
}

impl From<RaterEffect> for ShopperEffect {
    fn from(e: RaterEffect) -> Self {
        let round = |x: f64| super::stats::round(x, 2);
        ShopperEffect {
            shopper_id: e.shopper,
            visits: e.visits,
            compared_visits: e.compared,
            effect: e.effect.and_then(round),
            effect_ci95: e
                .ci95
                .and_then(|(low, high)| Some([round(low)?, round(high)?])),
            flag: e.lean,
        }
    }
}

/// Every shopper with a released, scored visit in the range: the flagged first, then by the
/// size of the effect.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShoppersResponse {
    pub range: RangeResponse,
    #[schema(max_items = 100000)]
    pub items: Vec<ShopperEffect>,
    /// Compared visits a flag needs.
    pub min_visits: u64,
    /// Points an effect needs to be flagged.
    pub min_effect: f64,
    /// The organization's event cursor when these figures were read: keep it, and
    /// `GET /api/v1/locations/{id}/figure-changes?since=` lists what moved them since.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "1042")]
    pub as_of: String,
}

super::as_of::dated_answers!(ShoppersResponse);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FigureChangesQuery {
    /// The `as_of` of the earlier answer (an event cursor, digits only).
    #[param(max_length = 19, pattern = "^[0-9]{1,19}$", example = "1042")]
    pub since: Option<String>,
    /// First local visit date, inclusive: the earlier answer's (default: 89 days before
    /// `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<chrono::NaiveDate>,
    /// Last local visit date, inclusive: the earlier answer's (default: today, UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<chrono::NaiveDate>,
    /// The earlier answer's questionnaire key (default: every key).
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
}

/// A location's headline figures at one cursor, unrounded so that the changes add up.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HeadlineFigures {
    pub visits: i64,
    /// Mean overall score of the scored visits; `null` with none.
    #[schema(required = true)]
    pub mean_score: Option<f64>,
    pub zero_mile: i64,
    pub first_mile: i64,
    pub second_mile: i64,
}

impl From<Sums> for HeadlineFigures {
    fn from(s: Sums) -> Self {
        HeadlineFigures {
            visits: s.visits,
            mean_score: s.mean(),
            zero_mile: s.zero,
            first_mile: s.first,
            second_mile: s.second,
        }
    }
}

/// What one change did to the figures, replayed in order from `then`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FigureEffect {
    /// -1, 0 or 1.
    pub visits: i64,
    /// Change of the mean score; `null` when there was no mean before or after it.
    #[schema(required = true)]
    pub mean_score: Option<f64>,
    pub zero_mile: i64,
    pub first_mile: i64,
    pub second_mile: i64,
}

impl From<Effect> for FigureEffect {
    fn from(e: Effect) -> Self {
        FigureEffect {
            visits: e.visits,
            mean_score: e.mean,
            zero_mile: e.zero,
            first_mile: e.first,
            second_mile: e.second,
        }
    }
}

/// One change that moved the figures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FigureChange {
    /// The event cursor of the change (its event in `GET /api/v1/events`).
    #[schema(example = "1050")]
    pub cursor: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub kind: MoveKind,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    /// The report's revision after the change.
    pub revision: i32,
    #[schema(value_type = String, format = Date)]
    pub visit_date: chrono::NaiveDate,
    pub questionnaire_key: String,
    pub effect: FigureEffect,
}

/// What moved a location's figures between two cursors: the figures then and now, and each
/// change with its effect; the effects add up to now minus then.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FigureChangesResponse {
    pub location: LocationRef,
    pub range: RangeResponse,
    #[schema(example = "1042")]
    pub since: String,
    /// The cursor the figures are read at now.
    #[schema(example = "1077")]
    pub as_of: String,
    pub then: HeadlineFigures,
    pub now: HeadlineFigures,
    /// In the order they happened.
    #[schema(max_items = 10000)]
    pub items: Vec<FigureChange>,
}
