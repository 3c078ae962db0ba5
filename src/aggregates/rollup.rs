//! What one released report adds to the rollups (and takes away when it stops being
//! released). Rollup rows are kept at three grains of the visit's local date: the day
//! (`YYYY-MM-DD`), the ISO week (`YYYY-Www`, in the ISO week-numbering year) and the month
//! (`YYYY-MM`); a range reads whole months, then whole weeks, and only the days left at its
//! ends (see [`plan`]). Pure: no I/O.

use chrono::{Datelike, Months, NaiveDate, TimeDelta};

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
    /// `YYYY-MM-DD` (a day row), `YYYY-Www` (an ISO week row) or `YYYY-MM` (a month row).
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

/// What one visit contributes to each of its three rollup periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub keys: [RollupKey; 3],
    pub tally: Tally,
    /// Section key and score (percent), for sections that had a score.
    pub sections: Vec<(String, f64)>,
    pub questions: Vec<QuestionShare>,
}

/// The day, ISO week and month periods of a local date.
pub fn periods(date: NaiveDate) -> [String; 3] {
    [day(date), week(date), date.format("%Y-%m").to_string()]
}

/// The day period of a date.
pub fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The ISO week period of a date (`2027-W01` for 2026-12-28 to 2027-01-03).
pub fn week(date: NaiveDate) -> String {
    let w = date.iso_week();
    format!("{:04}-W{:02}", w.year(), w.week())
}

/// The grain of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Week,
    Month,
}

/// The grain of a period string, by its length.
pub fn grain(period: &str) -> Grain {
    match period.len() {
        10 => Grain::Day,
        8 => Grain::Week,
        _ => Grain::Month,
    }
}

/// The first and last local date of a period; `None` for a malformed one.
pub fn dates(period: &str) -> Option<(NaiveDate, NaiveDate)> {
    match grain(period) {
        Grain::Day => {
            let d = NaiveDate::parse_from_str(period, "%Y-%m-%d").ok()?;
            Some((d, d))
        }
        Grain::Week => {
            let (year, week) = period.split_once("-W")?;
            let monday = NaiveDate::from_isoywd_opt(
                year.parse().ok()?,
                week.parse().ok()?,
                chrono::Weekday::Mon,
            )?;
            Some((monday, monday.checked_add_signed(TimeDelta::days(6))?))
        }
        Grain::Month => {
            let first = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok()?;
            Some((first, first.checked_add_months(Months::new(1))?.pred_opt()?))
        }
    }
}

/// The rollup periods that add up to exactly the local dates `from..=to`, fewest rows first:
/// the months wholly inside, then the ISO weeks wholly inside what is left, then the days
/// left over (at most six before and six after each run of weeks). However dense the
/// visits, a range reads a bounded number of rows per location.
pub fn plan(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    // The whole months, and what is left before and after them.
    let mut leftovers = Vec::new();
    let mut start = from;
    let mut pending: Option<NaiveDate> = None;
    loop {
        let first = start.with_day(1).unwrap_or(start);
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MAX);
        let end = last.min(to);
        if start == first && end == last {
            if let Some(p) = pending.take() {
                leftovers.push((p, start.pred_opt().unwrap_or(start)));
            }
            out.push(first.format("%Y-%m").to_string());
        } else if pending.is_none() {
            pending = Some(start);
        }
        match end.succ_opt() {
            Some(next) if end < to => start = next,
            _ => break,
        }
    }
    if let Some(p) = pending {
        leftovers.push((p, to));
    }
    for (a, b) in leftovers {
        let to_monday = (7 - i64::from(a.weekday().num_days_from_monday())) % 7;
        let mut cursor = a;
        let mut monday = a + TimeDelta::days(to_monday);
        while monday + TimeDelta::days(6) <= b {
            if cursor < monday {
                out.extend(days(cursor, monday - TimeDelta::days(1)));
            }
            out.push(week(monday));
            cursor = monday + TimeDelta::days(7);
            monday = cursor;
        }
        if cursor <= b {
            out.extend(days(cursor, b));
        }
    }
    out
}

/// The day periods of `from..=to`.
fn days(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    from.iter_days().take_while(|d| *d <= to).map(day).collect()
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
        if let Some(slot) = tally.histogram.get_mut(bucket(overall)) {
            *slot = 1;
        }
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
    let [day, week, month] = periods(report.visit_local_date);
    Contribution {
        keys: [key(day), key(week), key(month)],
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
    fn a_visit_counts_on_its_local_day_week_and_month() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(periods(date), ["2026-03-29", "2026-W13", "2026-03"]);
        // ISO weeks belong to the ISO year of their Thursday.
        let date = NaiveDate::from_ymd_opt(2026, 12, 29).unwrap();
        assert_eq!(periods(date), ["2026-12-29", "2026-W53", "2026-12"]);
        let date = NaiveDate::from_ymd_opt(2027, 1, 3).unwrap();
        assert_eq!(week(date), "2026-W53");
        assert_eq!(
            week(NaiveDate::from_ymd_opt(2027, 1, 4).unwrap()),
            "2027-W01"
        );
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_range_reads_whole_months_then_whole_weeks_then_days() {
        // 2026-01-12 is a Monday, 2026-04-01 a Wednesday, 2026-04-19 a Sunday.
        assert_eq!(
            plan(d("2026-01-12"), d("2026-04-19")),
            [
                "2026-02",
                "2026-03",
                "2026-W03",
                "2026-W04",
                "2026-01-26",
                "2026-01-27",
                "2026-01-28",
                "2026-01-29",
                "2026-01-30",
                "2026-01-31",
                "2026-04-01",
                "2026-04-02",
                "2026-04-03",
                "2026-04-04",
                "2026-04-05",
                "2026-W15",
                "2026-W16"
            ]
        );
        assert_eq!(plan(d("2026-02-01"), d("2026-02-28")), ["2026-02"]);
        assert_eq!(plan(d("2026-03-05"), d("2026-03-05")), ["2026-03-05"]);
        // A week may straddle two months when neither is whole.
        assert_eq!(
            plan(d("2026-01-26"), d("2026-02-08")),
            ["2026-W05", "2026-W06"]
        );
        assert!(plan(d("2026-03-06"), d("2026-03-05")).is_empty());
    }

    #[test]
    fn a_plan_covers_every_date_of_its_range_exactly_once() {
        let start = d("2025-12-20");
        for offset in 0..70 {
            for len in [0, 1, 6, 7, 13, 29, 31, 45, 90, 200, 400] {
                let from = start + TimeDelta::days(offset);
                let to = from + TimeDelta::days(len);
                let mut covered = Vec::new();
                for period in plan(from, to) {
                    let (a, b) = dates(&period).unwrap();
                    covered.extend(a.iter_days().take_while(|x| *x <= b));
                }
                covered.sort();
                let expected: Vec<NaiveDate> = from.iter_days().take_while(|x| *x <= to).collect();
                assert_eq!(covered, expected, "{from}..={to}");
            }
        }
    }

    #[test]
    fn periods_know_their_dates() {
        assert_eq!(dates("2026-02"), Some((d("2026-02-01"), d("2026-02-28"))));
        assert_eq!(dates("2026-W53"), Some((d("2026-12-28"), d("2027-01-03"))));
        assert_eq!(
            dates("2026-03-05"),
            Some((d("2026-03-05"), d("2026-03-05")))
        );
        assert_eq!(dates("2026-13"), None);
    }
}
