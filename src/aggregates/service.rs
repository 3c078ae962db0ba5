//! The use cases of aggregates: a location's summary, the leaderboard of locations and the
//! organization's overview, all read from the rollups of released reports.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, TimeDelta};

use super::figures::{Figures, VerdictName};
use super::stats::{Tally, VerdictRule};
use crate::db::aggregates::{self as store, Parts, Rollup, Scope};
use crate::db::locations::{self as locations_store, LocationFilter};
use crate::db::{Db, DbConn, DbError, QueryError, questionnaires};
use crate::ids::{LocationId, OrgId, UserId};
use crate::locations::model::{Location, LocationBrief};
use crate::query::QuestionnaireKey;
use crate::validation::Violation;

/// The longest range an aggregate covers.
pub const MAX_RANGE_DAYS: i64 = 3 * 366;
/// The default range: the last 90 days.
pub const DEFAULT_RANGE_DAYS: i64 = 90;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn ranges_default_to_90_days_and_refuse_what_they_cannot_cover() {
        let today = d("2026-11-23");
        let r = Range::parse(None, None, None, today).unwrap();
        assert_eq!(r.to, today);
        assert_eq!(r.from, d("2026-08-26"));
        assert!(Range::parse(Some(d("2026-02-01")), Some(d("2026-01-01")), None, today).is_err());
        assert!(Range::parse(Some(d("2020-01-01")), Some(d("2023-12-31")), None, today).is_err());
        assert!(Range::parse(Some(d("2023-01-01")), Some(d("2025-12-31")), None, today).is_ok());
        assert!(Range::parse(None, Some(NaiveDate::MIN), None, today).is_err());
        assert!(Range::parse(Some(NaiveDate::MAX), Some(NaiveDate::MAX), None, today).is_err());
        assert!(Range::parse(Some(d("9999-12-01")), Some(d("9999-12-31")), None, today).is_ok());
        assert!(Range::parse(Some(d("1899-12-31")), Some(d("1900-01-31")), None, today).is_err());
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("invalid query")]
    Invalid(Vec<Violation>),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<QueryError> for AggregateError {
    fn from(e: QueryError) -> Self {
        AggregateError::Db(e.into())
    }
}

/// Local dates, inclusive, and the questionnaire key to count (all when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub questionnaire_key: Option<String>,
}

/// The dates a range may cover.
const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");
const LATEST: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

impl Range {
    /// Checks a requested range; the default is the last 90 days to `today` (UTC).
    pub fn parse(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        questionnaire_key: Option<String>,
        today: NaiveDate,
    ) -> Result<Range, AggregateError> {
        let to = to.unwrap_or(today);
        let Some(from) =
            from.or_else(|| to.checked_sub_signed(TimeDelta::days(DEFAULT_RANGE_DAYS - 1)))
        else {
            return Err(AggregateError::Invalid(vec![Violation::new(
                "/query/to",
                "out_of_range",
                "`to` is too early for the default range; give `from` too",
            )]));
        };
        let mut violations = Vec::new();
        for (pointer, date) in [("/query/from", from), ("/query/to", to)] {
            if !(EARLIEST..=LATEST).contains(&date) {
                violations.push(Violation::new(
                    pointer,
                    "out_of_range",
                    "dates are between 1900-01-01 and 9999-12-31",
                ));
            }
        }
        let in_bounds = violations.is_empty();
        if in_bounds && from > to {
            violations.push(Violation::new(
                "/query/from",
                "out_of_range",
                "`from` is after `to`",
            ));
        } else if in_bounds && (to - from).num_days() >= MAX_RANGE_DAYS {
            violations.push(Violation::new(
                "/query/to",
                "out_of_range",
                "a range covers at most 3 years",
            ));
        }
        let questionnaire_key = match QuestionnaireKey::parse(questionnaire_key) {
            Ok(key) => key.map(QuestionnaireKey::into_string),
            Err(v) => {
                violations.push(v);
                None
            }
        };
        if violations.is_empty() {
            Ok(Range {
                from,
                to,
                questionnaire_key,
            })
        } else {
            Err(AggregateError::Invalid(violations))
        }
    }
}

/// A section's mean score over a set of visits.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionMean {
    pub key: String,
    pub title: String,
    pub mean_score: Option<f64>,
    pub n: u64,
}

fn section_means(rollup: &Rollup, titles: &HashMap<String, String>) -> Vec<SectionMean> {
    rollup
        .sections
        .iter()
        .map(|(key, sums)| SectionMean {
            key: key.clone(),
            title: titles.get(key).cloned().unwrap_or_else(|| key.clone()),
            mean_score: super::stats::mean(sums.score_sum, sums.scored)
                .and_then(|m| super::stats::round(m, 2)),
            n: sums.scored,
        })
        .collect()
}

fn merge_all<'a>(rollups: impl Iterator<Item = &'a Rollup>) -> Rollup {
    let mut total = Rollup::default();
    for r in rollups {
        total.merge(r);
    }
    total
}

/// The location `id` if the caller may see it (a manager: their own only).
pub(super) fn visible_location(
    conn: &mut DbConn,
    org: OrgId,
    manager: Option<UserId>,
    id: LocationId,
) -> Result<Location, AggregateError> {
    let location = locations_store::find(conn, org, id)?.ok_or(AggregateError::NotFound)?;
    if let Some(m) = manager
        && !locations_store::manages(conn, org, m, id)?
    {
        return Err(AggregateError::NotFound);
    }
    Ok(location)
}

/// A location's figures over a range.
pub struct LocationSummary {
    pub location: Location,
    pub range: Range,
    pub figures: Figures,
    pub sections: Vec<SectionMean>,
    pub last_visit_date: Option<NaiveDate>,
}

pub async fn location_summary(
    db: &Db,
    org: OrgId,
    manager: Option<UserId>,
    id: LocationId,
    range: Range,
    rule: VerdictRule,
    languages: Vec<String>,
) -> Result<LocationSummary, AggregateError> {
    db.run(move |conn| {
        let location = visible_location(conn, org, manager, id)?;
        let scope = Scope {
            org,
            locations: Some(vec![id]),
            questionnaire_key: range.questionnaire_key.clone(),
        };
        let parts = Parts {
            sections: true,
            questions: false,
            shoppers: true,
        };
        let rollup = store::per_location(conn, &scope, range.from, range.to, parts)?
            .remove(&id)
            .unwrap_or_default();
        let titles = questionnaires::wording(conn, org, &languages)?.sections;
        let last_visit_date = store::last_visit_date(
            conn,
            org,
            id,
            range.questionnaire_key.as_deref(),
            range.from,
            range.to,
        )?;
        Ok(LocationSummary {
            location,
            figures: Figures::of_location(&rollup, &rule),
            sections: section_means(&rollup, &titles),
            last_visit_date,
            range,
        })
    })
    .await
}

/// Which locations an organization-wide aggregate covers.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub region: Option<String>,
    pub tag: Option<String>,
    /// A manager sees only their locations.
    pub manager: Option<UserId>,
}

/// The most locations an organization-wide aggregate reads.
const MAX_LOCATIONS: i64 = 100_000;

impl Coverage {
    /// Every location of the organization: its rollups need no list of locations.
    fn everywhere(&self) -> bool {
        self.region.is_none() && self.tag.is_none() && self.manager.is_none()
    }

    fn filter(self) -> LocationFilter {
        LocationFilter {
            region: self.region,
            tag: self.tag,
            active: None,
            code: None,
            name_contains: None,
            manager: self.manager,
        }
    }
}

/// The locations covered, each with its rollup over the range.
async fn covered(
    db: &Db,
    org: OrgId,
    coverage: Coverage,
    range: &Range,
    parts: Parts,
) -> Result<Vec<(LocationBrief, Rollup)>, AggregateError> {
    let range = range.clone();
    db.run(move |conn| {
        let (locations, mut rollups) = covered_over(
            conn,
            org,
            coverage,
            range.questionnaire_key,
            &[(range.from, range.to)],
            parts,
        )?;
        let mut rollups = rollups.pop().unwrap_or_default();
        let rows = locations
            .into_iter()
            .map(|l| {
                let r = rollups.remove(&l.id).unwrap_or_default();
                (l, r)
            })
            .collect();
        Ok::<_, AggregateError>(rows)
    })
    .await
}

/// Rollups by location.
pub(super) type ByLocation = BTreeMap<LocationId, Rollup>;

/// The locations covered, and for each of `ranges` (inclusive local dates) their rollups
/// by location (a location without a released visit in a range has none there).
pub(super) fn covered_over(
    conn: &mut DbConn,
    org: OrgId,
    coverage: Coverage,
    questionnaire_key: Option<String>,
    ranges: &[(NaiveDate, NaiveDate)],
    parts: Parts,
) -> Result<(Vec<LocationBrief>, Vec<ByLocation>), DbError> {
    let everywhere = coverage.everywhere();
    let locations = locations_store::briefs(conn, org, &coverage.filter(), MAX_LOCATIONS)?;
    // The whole organization needs no list of locations in the query.
    let scope = Scope {
        org,
        locations: (!everywhere).then(|| locations.iter().map(|l| l.id).collect()),
        questionnaire_key,
    };
    let rollups = ranges
        .iter()
        .map(|(from, to)| store::per_location(conn, &scope, *from, *to, parts))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((locations, rollups))
}

/// How the leaderboard is ordered (the best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaderboardSort {
    MeanScore,
    SecondMileRate,
    ZeroMileRate,
    Visits,
}

/// One location on the leaderboard.
pub struct Standing {
    pub rank: u64,
    pub location: LocationBrief,
    pub figures: Figures,
}

/// The key a standing is ordered by: higher is better (a lower zero-mile rate is better);
/// locations with nothing to compare come last.
fn sort_key(figures: &Figures, sort: LeaderboardSort) -> Option<f64> {
    match sort {
        LeaderboardSort::MeanScore => figures.mean_score,
        LeaderboardSort::SecondMileRate => figures.second_mile.rate,
        LeaderboardSort::ZeroMileRate => figures.zero_mile.rate.map(|r| -r),
        LeaderboardSort::Visits => Some(figures.visits as f64),
    }
}

/// Orders rows best first (ties in name order, by `name`) and ranks them with standard
/// competition ranking (ties share a rank: 1 2 2 4); rows without a value share the last.
fn ranked<T>(
    rows: Vec<(T, Figures)>,
    sort: LeaderboardSort,
    name: impl Fn(&T) -> String,
) -> Vec<(u64, T, Figures)> {
    // Keys computed once and sorted beside each row's index: the rows themselves are large
    // and a leaderboard has tens of thousands of them.
    let mut keys: Vec<(Option<f64>, String, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, (item, figures))| (sort_key(figures, sort), name(item), i))
        .collect();
    keys.sort_by(|(ka, na, _), (kb, nb, _)| {
        match (ka, kb) {
            (Some(x), Some(y)) => y.total_cmp(x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then_with(|| na.cmp(nb))
    });
    let mut slots: Vec<Option<(T, Figures)>> = rows.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(slots.len());
    let mut previous: Option<(Option<f64>, u64)> = None;
    for (position, (key, _, index)) in keys.into_iter().enumerate() {
        let Some((item, figures)) = slots.get_mut(index).and_then(Option::take) else {
            continue;
        };
        let rank = match previous {
            Some((k, r)) if k == key => r,
            _ => position as u64 + 1,
        };
        previous = Some((key, rank));
        out.push((rank, item, figures));
    }
    out
}

/// Orders standings best first and ranks them (see [`ranked`]).
pub fn rank(rows: Vec<(LocationBrief, Figures)>, sort: LeaderboardSort) -> Vec<Standing> {
    ranked(rows, sort, |l| l.code.clone())
        .into_iter()
        .map(|(rank, location, figures)| Standing {
            rank,
            location,
            figures,
        })
        .collect()
}

/// The leaderboard of the covered locations with at least `min_visits` visits.
pub async fn leaderboard(
    db: &Db,
    org: OrgId,
    coverage: Coverage,
    range: Range,
    sort: LeaderboardSort,
    min_visits: u64,
    rule: VerdictRule,
) -> Result<Vec<Standing>, AggregateError> {
    let parts = Parts {
        shoppers: true,
        ..Parts::default()
    };
    let rows = covered(db, org, coverage, &range, parts).await?;
    let rows = rows
        .into_iter()
        .filter(|(_, r)| r.tally.visits >= min_visits)
        .map(|(l, r)| (l, Figures::of_location(&r, &rule)))
        .collect();
    Ok(rank(rows, sort))
}

/// How many locations got each verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    pub zero: u64,
    pub first: u64,
    pub second: u64,
    pub insufficient_data: u64,
}

pub struct Overview {
    pub range: Range,
    pub figures: Figures,
    pub verdicts: VerdictCounts,
    pub sections: Vec<SectionMean>,
}

/// The organization's figures (the covered locations together), the verdict counts of its
/// locations and its section means.
pub async fn overview(
    db: &Db,
    org: OrgId,
    coverage: Coverage,
    range: Range,
    rule: VerdictRule,
    languages: Vec<String>,
) -> Result<Overview, AggregateError> {
    let parts = Parts {
        sections: true,
        questions: false,
        shoppers: false,
    };
    let rows = covered(db, org, coverage, &range, parts).await?;
    let titles = db
        .run(move |conn| Ok::<_, DbError>(questionnaires::wording(conn, org, &languages)?.sections))
        .await?;
    let mut verdicts = VerdictCounts::default();
    for (_, r) in &rows {
        match Figures::of(&r.tally, &rule).verdict {
            VerdictName::Zero => verdicts.zero += 1,
            VerdictName::First => verdicts.first += 1,
            VerdictName::Second => verdicts.second += 1,
            VerdictName::InsufficientData => verdicts.insufficient_data += 1,
        }
    }
    let total = merge_all(rows.iter().map(|(_, r)| r));
    Ok(Overview {
        figures: Figures::of(&total.tally, &rule),
        sections: section_means(&total, &titles),
        verdicts,
        range,
    })
}

/// One region's figures and rank.
pub struct RegionStanding {
    pub rank: u64,
    /// `None`: locations without a region.
    pub region: Option<String>,
    pub locations: u64,
    pub figures: Figures,
}

/// One row per region of the covered locations, ranked like the leaderboard.
pub async fn regions(
    db: &Db,
    org: OrgId,
    coverage: Coverage,
    range: Range,
    sort: LeaderboardSort,
    rule: VerdictRule,
) -> Result<Vec<RegionStanding>, AggregateError> {
    let rows = covered(db, org, coverage, &range, Parts::default()).await?;
    let mut by_region: BTreeMap<Option<String>, (u64, Rollup)> = BTreeMap::new();
    for (location, rollup) in rows {
        let entry = by_region.entry(location.region.clone()).or_default();
        entry.0 += 1;
        entry.1.merge(&rollup);
    }
    let rows: Vec<((Option<String>, u64), Figures)> = by_region
        .into_iter()
        .map(|(region, (n, r))| ((region, n), Figures::of(&r.tally, &rule)))
        .collect();
    Ok(
        ranked(rows, sort, |(region, _)| region.clone().unwrap_or_default())
            .into_iter()
            .map(|(rank, (region, locations), figures)| RegionStanding {
                rank,
                region,
                locations,
                figures,
            })
            .collect(),
    )
}

/// A question's record over the covered visits.
pub struct QuestionFigures {
    pub key: String,
    pub text: String,
    /// Visits where it counted.
    pub n: u64,
    pub full_points: super::figures::Proportion,
    /// Earned over possible points, percent.
    pub mean_points: Option<f64>,
}

/// Per question key: how often it counted, how often it earned all its points (with the
/// Wilson interval), and the mean share of its points earned.
pub async fn questions(
    db: &Db,
    org: OrgId,
    coverage: Coverage,
    location: Option<LocationId>,
    range: Range,
    languages: Vec<String>,
) -> Result<Vec<QuestionFigures>, AggregateError> {
    let parts = Parts {
        sections: false,
        questions: true,
        shoppers: false,
    };
    let rows = covered(db, org, coverage, &range, parts).await?;
    if let Some(id) = location
        && !rows.iter().any(|(l, _)| l.id == id)
    {
        return Err(AggregateError::NotFound);
    }
    let total = merge_all(
        rows.iter()
            .filter(|(l, _)| location.is_none_or(|id| l.id == id))
            .map(|(_, r)| r),
    );
    let texts = db
        .run(move |conn| {
            Ok::<_, DbError>(questionnaires::wording(conn, org, &languages)?.questions)
        })
        .await?;
    Ok(total
        .questions
        .into_iter()
        .map(|(key, q)| QuestionFigures {
            text: texts.get(&key).cloned().unwrap_or_else(|| key.clone()),
            n: q.applicable,
            full_points: super::figures::proportion(q.full_points, q.applicable),
            mean_points: (q.possible_sum > 0.0)
                .then(|| q.earned_sum / q.possible_sum * 100.0)
                .and_then(|m| super::stats::round(m, 2)),
            key,
        })
        .collect())
}

/// A bucket of a trend.
pub struct TrendBucket {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub figures: Figures,
}

/// Week (ISO, starting Monday) or month buckets of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSize {
    Week,
    Month,
}

/// The bucket that holds `date`: its first and last day.
pub fn bucket_of(date: NaiveDate, size: BucketSize) -> (NaiveDate, NaiveDate) {
    use chrono::Datelike;
    match size {
        BucketSize::Week => {
            let back = i64::from(date.weekday().num_days_from_monday());
            let start = date
                .checked_sub_signed(TimeDelta::days(back))
                .unwrap_or(date);
            (
                start,
                start
                    .checked_add_signed(TimeDelta::days(6))
                    .unwrap_or(NaiveDate::MAX),
            )
        }
        BucketSize::Month => {
            let start = date.with_day(1).unwrap_or(date);
            let end = start
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(NaiveDate::MAX);
            (start, end)
        }
    }
}

/// The buckets of a range, each clipped to it.
fn bucket_ranges(range: &Range, size: BucketSize) -> Vec<(NaiveDate, NaiveDate)> {
    let mut ranges = Vec::new();
    let mut start = range.from;
    while start <= range.to {
        let (_, bucket_end) = bucket_of(start, size);
        let end = bucket_end.min(range.to);
        ranges.push((start, end));
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    ranges
}

fn buckets_of(
    ranges: Vec<(NaiveDate, NaiveDate)>,
    tallies: Vec<Tally>,
    rule: &VerdictRule,
) -> Vec<TrendBucket> {
    ranges
        .into_iter()
        .zip(tallies)
        .map(|((start, end), tally)| TrendBucket {
            start,
            end,
            figures: Figures::of(&tally, rule),
        })
        .collect()
}

/// A location's buckets over the range (each clipped to the range), empty ones included.
pub async fn trend(
    db: &Db,
    org: OrgId,
    manager: Option<UserId>,
    id: LocationId,
    range: Range,
    size: BucketSize,
    rule: VerdictRule,
) -> Result<(Location, Vec<TrendBucket>), AggregateError> {
    let ranges = bucket_ranges(&range, size);
    let scope = Scope {
        org,
        locations: Some(vec![id]),
        questionnaire_key: range.questionnaire_key.clone(),
    };
    let asked = ranges.clone();
    let (location, tallies) = db
        .run(move |conn| {
            let location = locations_store::find(conn, org, id)?.ok_or(AggregateError::NotFound)?;
            if let Some(m) = manager
                && !locations_store::manages(conn, org, m, id)?
            {
                return Err(AggregateError::NotFound);
            }
            Ok((location, store::per_range(conn, &scope, &asked)?))
        })
        .await?;
    Ok((location, buckets_of(ranges, tallies, &rule)))
}

/// The covered locations' buckets over the range together (each clipped to the range),
/// empty ones included: one query over the rollups, whatever the number of buckets.
pub async fn coverage_trend(
    db: &Db,
    org: OrgId,
    coverage: Coverage,
    range: Range,
    size: BucketSize,
    rule: VerdictRule,
) -> Result<Vec<TrendBucket>, AggregateError> {
    let ranges = bucket_ranges(&range, size);
    let asked = ranges.clone();
    let tallies = db
        .run(move |conn| {
            let locations = if coverage.everywhere() {
                None
            } else {
                Some(
                    locations_store::list(conn, org, &coverage.filter(), None, MAX_LOCATIONS)?
                        .into_iter()
                        .map(|l| l.id)
                        .collect(),
                )
            };
            let scope = Scope {
                org,
                locations,
                questionnaire_key: range.questionnaire_key.clone(),
            };
            Ok::<_, AggregateError>(store::per_range(conn, &scope, &asked)?)
        })
        .await?;
    Ok(buckets_of(ranges, tallies, &rule))
}
