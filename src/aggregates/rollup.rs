//! What one released report adds to the rollups (and takes away when it stops being
//! released). Rollup rows are kept at two grains of the visit's local date: the day
//! (`YYYY-MM-DD`) and the month (`YYYY-MM`); a range reads whole months and the days at its
//! ragged ends. Pure: no I/O.

use chrono::NaiveDate;

use super::stats::{Tally, bucket};
use crate::ids::{LocationId, OrgId};
use crate::reports::model::Report;
use crate::reports::scoring::MileLevel;

/// One period of one location and questionnaire key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub org_id: OrgId,
    pub location_id: LocationId,
    pub questionnaire_key: String,
    /// `YYYY-MM-DD` (a day row) or `YYYY-MM` (a month row).
    pub period: String,
}

/// A question's share of a visit.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionShare {
    pub key: String,
    /// The question counted (visible, answered, not N/A, scored).
    pub applicable: bool,
    /// It earned all its points (a bonus question: any points).
    pub full_points: bool,
    pub earned: f64,
    pub possible: f64,
}

/// What one visit contributes to each of its two rollup periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub keys: [RollupKey; 2],
    pub tally: Tally,
    /// Section key and score (percent), for sections that had a score.
    pub sections: Vec<(String, f64)>,
    pub questions: Vec<QuestionShare>,
}

/// The day and month periods of a local date.
pub fn periods(date: NaiveDate) -> [String; 2] {
    [
        date.format("%Y-%m-%d").to_string(),
        date.format("%Y-%m").to_string(),
    ]
}

/// What `report` (released) contributes to the rollups.
pub fn contribution(report: &Report) -> Contribution {
    let score = &report.document.score;
    let mut tally = Tally {
        visits: 1,
        ..Tally::default()
    };
    if let Some(overall) = score.overall {
        tally.scored_visits = 1;
        tally.score_sum = overall;
        tally.score_sum_sq = overall * overall;
        tally.score_min = Some(overall);
        tally.score_max = Some(overall);
        tally.histogram[bucket(overall)] = 1;
    }
    match score.mile_level {
        MileLevel::Zero => tally.zero_mile = 1,
        MileLevel::First => tally.first_mile = 1,
        MileLevel::Second => tally.second_mile = 1,
    }
    if !score.critical_failures.is_empty() {
        tally.critical_failures = 1;
    }
    let key = |period: String| RollupKey {
        org_id: report.org_id,
        location_id: report.location_id,
        questionnaire_key: report.questionnaire_key.clone(),
        period,
    };
    let [day, month] = periods(report.visit_local_date);
    Contribution {
        keys: [key(day), key(month)],
        tally,
        sections: score
            .sections
            .iter()
            .filter_map(|s| Some((s.key.clone(), s.score?)))
            .collect(),
        questions: score
            .questions
            .iter()
            .map(|q| QuestionShare {
                key: q.key.clone(),
                applicable: q.counted,
                full_points: q.counted
                    && if q.possible > 0.0 {
                        q.earned >= q.possible - 1e-9
                    } else {
                        q.earned > 0.0
                    },
                earned: q.earned,
                possible: q.possible,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_counts_on_its_local_day_and_month() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(
            periods(date),
            ["2026-03-29".to_string(), "2026-03".to_string()]
        );
    }
}
