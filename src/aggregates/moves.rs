//! What moves a location's figures: a report released, withdrawn (reopened, or rejected
//! after release) or amended after an appeal. Each move is kept with the event its
//! transaction recorded, so that the figures read at an `as_of` (an event cursor) and the
//! figures now differ by exactly the moves numbered after it. Pure: no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::stats::Tally;
use crate::events::model::EventType;
use crate::ids::{EventId, LocationId, OrgId, ReportId};
use crate::reports::model::Report;
use crate::reports::scoring::MileLevel;

/// The event types whose transactions may move figures: a read that saw none of them
/// between its two looks at the cursor saw a settled state.
pub const FIGURE_EVENTS: [EventType; 4] = [
    EventType::ReportApproved,
    EventType::ReportReopened,
    EventType::ReportRejected,
    EventType::AppealAmended,
];

/// Why a location's figures moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    /// A report was approved (a first release, or a revised one).
    Released,
    /// A released report was reopened by an admin and no longer counts.
    Reopened,
    /// A released report was rejected and no longer counts.
    Rejected,
    /// A released report's answers were amended after a manager's appeal.
    Amended,
}

impl MoveKind {
    pub const ALL: [MoveKind; 4] = [
        MoveKind::Released,
        MoveKind::Reopened,
        MoveKind::Rejected,
        MoveKind::Amended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MoveKind::Released => "released",
            MoveKind::Reopened => "reopened",
            MoveKind::Rejected => "rejected",
            MoveKind::Amended => "amended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a report counted: its overall score (`None`: no question counted) and mile level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counted {
    pub score: Option<f64>,
    pub mile: MileLevel,
}

impl Counted {
    pub fn of(report: &Report) -> Self {
        Counted {
            score: report.document.score.overall,
            mile: report.document.score.mile_level,
        }
    }
}

/// One move, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureMove {
    pub org_id: OrgId,
    /// The event the move's transaction recorded (its number orders the move).
    pub event_id: EventId,
    pub location_id: LocationId,
    pub report_id: ReportId,
    /// The report's revision after the move.
    pub revision: i32,
    pub questionnaire_key: String,
    pub visit_date: NaiveDate,
    pub kind: MoveKind,
    /// How it counted before (`None`: it did not).
    pub before: Option<Counted>,
    pub after: Option<Counted>,
    pub at: DateTime<Utc>,
}

impl FigureMove {
    /// The move of `report` (as it is after the change) with event `event`.
    pub fn new(
        event: EventId,
        kind: MoveKind,
        report: &Report,
        before: Option<Counted>,
        after: Option<Counted>,
        at: DateTime<Utc>,
    ) -> Self {
        FigureMove {
            org_id: report.org_id,
            event_id: event,
            location_id: report.location_id,
            report_id: report.id,
            revision: report.revision,
            questionnaire_key: report.questionnaire_key.clone(),
            visit_date: report.visit_local_date,
            kind,
            before,
            after,
            at,
        }
    }
}

/// The few sums a location's headline figures are made of.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sums {
    pub visits: i64,
    pub scored: i64,
    pub score_sum: f64,
    pub zero: i64,
    pub first: i64,
    pub second: i64,
}

impl Sums {
    pub fn of(t: &Tally) -> Self {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Sums {
            visits: n(t.visits),
            scored: n(t.scored_visits),
            score_sum: t.score_sum,
            zero: n(t.zero_mile),
            first: n(t.first_mile),
            second: n(t.second_mile),
        }
    }

    /// The mean score (`None` with nothing scored).
    pub fn mean(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.score_sum / self.scored as f64)
    }

    /// Adds (`sign` 1) or takes away (`sign` -1) one counted report.
    fn count(&mut self, c: &Counted, sign: i64) {
        self.visits += sign;
        if let Some(score) = c.score {
            self.scored += sign;
            self.score_sum += sign as f64 * score;
        }
        match c.mile {
            MileLevel::Zero => self.zero += sign,
            MileLevel::First => self.first += sign,
            MileLevel::Second => self.second += sign,
        }
    }

    /// These sums after `m`.
    pub fn after(mut self, m: &FigureMove) -> Self {
        if let Some(before) = &m.before {
            self.count(before, -1);
        }
        if let Some(after) = &m.after {
            self.count(after, 1);
        }
        self
    }

    /// These sums before `m` (undoing it).
    pub fn before(mut self, m: &FigureMove) -> Self {
        if let Some(after) = &m.after {
            self.count(after, -1);
        }
        if let Some(before) = &m.before {
            self.count(before, 1);
        }
        self
    }
}

/// One move's effect on the headline figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub visits: i64,
    /// Change of the mean score (`None` when it had no mean before or after).
    pub mean: Option<f64>,
    pub zero: i64,
    pub first: i64,
    pub second: i64,
}

/// The sums before `moves` (in event order) given the sums `now` after them, and each move's
/// effect as the moves are replayed from there: the effects add up to `now` minus then.
pub fn explain(now: Sums, moves: &[FigureMove]) -> (Sums, Vec<Effect>) {
    let then = moves.iter().rev().fold(now, |s, m| s.before(m));
    let mut at = then;
    let effects = moves
        .iter()
        .map(|m| {
            let next = at.after(m);
            let effect = Effect {
                visits: next.visits - at.visits,
                mean: next.mean().zip(at.mean()).map(|(b, a)| b - a),
                zero: next.zero - at.zero,
                first: next.first - at.first,
                second: next.second - at.second,
            };
            at = next;
            effect
        })
        .collect();
    (then, effects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(
        kind: MoveKind,
        before: Option<(f64, MileLevel)>,
        after: Option<(f64, MileLevel)>,
    ) -> FigureMove {
        let counted = |c: Option<(f64, MileLevel)>| {
            c.map(|(score, mile)| Counted {
                score: Some(score),
                mile,
            })
        };
        FigureMove {
            org_id: OrgId(uuid::Uuid::nil()),
            event_id: EventId(uuid::Uuid::nil()),
            location_id: LocationId(uuid::Uuid::nil()),
            report_id: ReportId(uuid::Uuid::nil()),
            revision: 1,
            questionnaire_key: "k".into(),
            visit_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            kind,
            before: counted(before),
            after: counted(after),
            at: Utc::now(),
        }
    }

    #[test]
    fn effects_add_up_to_the_difference() {
        let now = Sums {
            visits: 3,
            scored: 3,
            score_sum: 70.0 + 80.0 + 95.0,
            zero: 0,
            first: 2,
            second: 1,
        };
        let moves = vec![
            moved(MoveKind::Released, None, Some((95.0, MileLevel::Second))),
            moved(MoveKind::Reopened, Some((40.0, MileLevel::Zero)), None),
            moved(
                MoveKind::Amended,
                Some((60.0, MileLevel::Zero)),
                Some((70.0, MileLevel::First)),
            ),
        ];
        let (then, effects) = explain(now, &moves);
        assert_eq!(
            (then.visits, then.zero, then.first, then.second),
            (3, 2, 1, 0)
        );
        assert_eq!(then.mean(), Some((40.0 + 60.0 + 80.0) / 3.0));
        let sum: f64 = effects.iter().filter_map(|e| e.mean).sum();
        assert!((sum - (now.mean().unwrap() - then.mean().unwrap())).abs() < 1e-9);
        assert_eq!(effects.iter().map(|e| e.visits).sum::<i64>(), 0);
        assert_eq!(effects[0].visits, 1);
        assert_eq!(effects[1].zero, -1);
        assert_eq!((effects[2].zero, effects[2].first), (-1, 1));
    }
}
