//! How plausible a visit is: a score from 0 to 100 and the reasons that lowered it. It tells
//! reviewers which reports to read closely and never refuses one. Pure: no I/O; what other
//! reports show is gathered by the service and handed in as [`Evidence`].
//!
//! The score is 100 minus the penalty of each reason found (at least 0). The rules, their
//! thresholds and penalties are the constants below; the README's "Plausibility" section
//! states them for reviewers.

use chrono::{DateTime, TimeDelta, Utc};

use super::flags::haversine_m;
use super::model::ReportSubmission;
pub use super::reasons::{Plausibility, Reason, ReasonCode};
use super::scoring::Score;
use crate::ids::ReportId;
use crate::questionnaires::model::{QuestionType, QuestionnaireContent};

/// Other visits of the questionnaire needed before a duration is judged against them.
pub const DURATION_MIN_SAMPLE: usize = 10;
/// A duration is unusual when its robust z (distance from the median over 1.4826 MAD) is
/// above this.
pub const DURATION_ROBUST_Z: f64 = 3.5;
/// The smallest spread a duration is judged with (seconds), so that identical durations do
/// not make every other one unusual.
pub const DURATION_MIN_SPREAD_S: f64 = 60.0;
/// A check-in more than this long before the visit started, or after it ended, is unusual.
pub const CHECK_IN_SLACK_MINUTES: i64 = 30;
/// At least this many scale answers, all equal, are straight-lining.
pub const STRAIGHT_LINE_SCALES: usize = 5;
/// At least this many counted answers, every one at its maximum, are straight-lining.
pub const ALL_MAXIMUM_ANSWERS: usize = 8;
/// Narratives shorter than this many words are not compared.
pub const NARRATIVE_MIN_WORDS: usize = 20;
/// Estimated Jaccard similarity of two narratives' 5-word shingles at or above which one
/// nearly repeats the other.
pub const NARRATIVE_JACCARD: f64 = 0.6;
/// How far back narratives are compared.
pub const NARRATIVE_DAYS: i64 = 90;
/// A photo taken more than this long before the visit started, or after it ended.
pub const PHOTO_SLACK_MINUTES: i64 = 60;
/// A photo taken farther than this from the location.
pub const PHOTO_DISTANCE_M: f64 = 1_000.0;
/// Travel between two visits faster than this is impossible by road.
pub const TRAVEL_KMH: f64 = 200.0;
/// Visits closer than this are never impossible travel (neighbouring stores, GPS noise).
pub const TRAVEL_MIN_DISTANCE_M: f64 = 2_000.0;
/// How far apart in time the shopper's other visits are looked at.
pub const TRAVEL_WINDOW_HOURS: i64 = 24;

/// The shopper's visit at another store near in time.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    pub report: ReportId,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
}

/// The most similar earlier narrative.
#[derive(Debug, Clone, PartialEq)]
pub struct Similar {
    pub report: ReportId,
    pub same_shopper: bool,
    pub jaccard: f64,
}

/// What other reports show about this one.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Durations (seconds) of the organization's other visits with this questionnaire key.
    pub durations: Vec<i64>,
    pub similar: Option<Similar>,
    /// The shopper's other visits within a day of this one.
    pub neighbours: Vec<Neighbour>,
}

/// Where the visit was and what the questionnaire asks: the parts of the context the rules
/// read.
pub struct Visit<'a> {
    pub submission: &'a ReportSubmission,
    pub content: &'a QuestionnaireContent,
    pub score: &'a Score,
    /// The location's coordinates, when it has them.
    pub place: Option<(f64, f64)>,
    pub checkin_radius_m: f64,
}

/// The reasons a submission shows by itself and against `evidence` (photos come later:
/// [`photo_reasons`]).
pub fn assess(visit: &Visit<'_>, evidence: &Evidence) -> Vec<Reason> {
    let sub = visit.submission;
    let started = sub.visit.started_at.with_timezone(&Utc);
    let ended = sub.visit.ended_at.with_timezone(&Utc);
    let mut reasons = Vec::new();
    reasons.extend(duration(
        (ended - started).num_seconds(),
        &evidence.durations,
    ));
    if let Some(c) = &sub.check_in {
        if let Some((lat, lon)) = visit.place {
            let distance = haversine_m(c.lat, c.lon, lat, lon);
            if distance > visit.checkin_radius_m {
                reasons.push(Reason::new(
                    ReasonCode::CheckInDistance,
                    format!(
                        "checked in {distance:.0} m from the location (radius {:.0} m)",
                        visit.checkin_radius_m
                    ),
                ));
            }
        }
        let at = c.at.with_timezone(&Utc);
        let slack = TimeDelta::minutes(CHECK_IN_SLACK_MINUTES);
        if at < started - slack || at > ended + slack {
            let minutes = minutes_outside(at, started, ended);
            reasons.push(Reason::new(
                ReasonCode::CheckInTime,
                format!("checked in {minutes} minutes outside the visit"),
            ));
        }
    }
    reasons.extend(straight_lining(visit));
    if let Some(s) = &evidence.similar {
        reasons.push(Reason::new(
            ReasonCode::RepeatedNarrative,
            format!(
                "the narrative nearly repeats report {} ({}; estimated Jaccard {:.2})",
                s.report,
                if s.same_shopper {
                    "same shopper"
                } else {
                    "another shopper"
                },
                s.jaccard
            ),
        ));
    }
    if let Some((lat, lon)) = visit.place {
        reasons.extend(travel(started, ended, (lat, lon), &evidence.neighbours));
    }
    reasons
}

/// Whole minutes from `at` to the nearest end of the visit (0 inside it).
fn minutes_outside(at: DateTime<Utc>, started: DateTime<Utc>, ended: DateTime<Utc>) -> i64 {
    if at < started {
        (started - at).num_minutes()
    } else if at > ended {
        (at - ended).num_minutes()
    } else {
        0
    }
}

/// The median of `xs` (sorted in place); `None` when empty.
fn median(xs: &mut [f64]) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let upper = *xs.get(n / 2)?;
    if n % 2 == 1 {
        Some(upper)
    } else {
        Some((xs.get(n / 2 - 1)? + upper) / 2.0)
    }
}

fn duration(seconds: i64, others: &[i64]) -> Option<Reason> {
    if others.len() < DURATION_MIN_SAMPLE {
        return None;
    }
    let mut xs: Vec<f64> = others.iter().map(|&s| s as f64).collect();
    let mid = median(&mut xs)?;
    let mut deviations: Vec<f64> = xs.iter().map(|x| (x - mid).abs()).collect();
    let mad = median(&mut deviations)?;
    let spread = (1.4826 * mad).max(DURATION_MIN_SPREAD_S);
    let z = (seconds as f64 - mid) / spread;
    (z.abs() > DURATION_ROBUST_Z).then(|| {
        Reason::new(
            ReasonCode::UnusualDuration,
            format!(
                "the visit lasted {} min; this questionnaire's visits usually last {} min \
                 (median of {}; robust z {z:.1})",
                seconds / 60,
                (mid / 60.0).round(),
                others.len()
            ),
        )
    })
}

fn straight_lining(visit: &Visit<'_>) -> Option<Reason> {
    let scales: Vec<i64> = visit
        .submission
        .answers
        .iter()
        .filter(|a| !a.na)
        .filter(|a| {
            visit
                .content
                .question(&a.question)
                .is_some_and(|q| q.kind == QuestionType::Scale)
        })
        .filter_map(|a| a.value.as_ref()?.as_i64())
        .collect();
    if let Some(first) = scales.first()
        && scales.len() >= STRAIGHT_LINE_SCALES
        && scales.iter().all(|v| v == first)
    {
        return Some(Reason::new(
            ReasonCode::StraightLining,
            format!("all {} scale answers are {first}", scales.len()),
        ));
    }
    let counted: Vec<_> = visit.score.questions.iter().filter(|q| q.counted).collect();
    (counted.len() >= ALL_MAXIMUM_ANSWERS
        && counted.iter().all(|q| {
            // A bonus question (nothing possible) is at its maximum when it earned anything.
            if q.possible > 0.0 {
                q.earned >= q.possible
            } else {
                q.earned > 0.0
            }
        }))
    .then(|| {
        Reason::new(
            ReasonCode::StraightLining,
            format!("all {} scored answers are at their maximum", counted.len()),
        )
    })
}

fn travel(
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    (lat, lon): (f64, f64),
    neighbours: &[Neighbour],
) -> Option<Reason> {
    neighbours.iter().find_map(|n| {
        let distance = haversine_m(lat, lon, n.lat, n.lon);
        if distance < TRAVEL_MIN_DISTANCE_M {
            return None;
        }
        // The time between the end of the earlier visit and the start of the later one.
        let gap = if n.started >= ended {
            n.started - ended
        } else if n.ended <= started {
            started - n.ended
        } else {
            TimeDelta::zero()
        };
        let hours = gap.num_seconds() as f64 / 3600.0;
        let needed = distance / 1000.0 / TRAVEL_KMH;
        (hours < needed).then(|| {
            Reason::new(
                ReasonCode::ImpossibleTravel,
                format!(
                    "the same shopper's visit of report {} is {:.0} km away and {} minutes \
                     apart (at least {:.0} minutes needed)",
                    n.report,
                    distance / 1000.0,
                    gap.num_minutes(),
                    (needed * 60.0).ceil()
                ),
            )
        })
    })
}

/// What a photo's EXIF said, as kept: differences only, never the time or coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhotoOffsets {
    /// Minutes the capture time lies outside the visit (0 inside it).
    pub minutes: Option<i64>,
    /// Metres from the location.
    pub metres: Option<i64>,
}

impl PhotoOffsets {
    /// The offsets of a capture at `at` and `place` for a visit from `started` to `ended` at
    /// `location`.
    pub fn derive(
        at: Option<DateTime<Utc>>,
        place: Option<(f64, f64)>,
        started: DateTime<Utc>,
        ended: DateTime<Utc>,
        location: Option<(f64, f64)>,
    ) -> Self {
        PhotoOffsets {
            minutes: at.map(|at| minutes_outside(at, started, ended)),
            metres: place
                .zip(location)
                .map(|((a, b), (c, d))| haversine_m(a, b, c, d).round() as i64),
        }
    }
}

/// The reasons the uploaded photos give: one per kind, naming the worst photo.
pub fn photo_reasons(photos: &[PhotoOffsets]) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let late = photos.iter().filter_map(|p| p.minutes).max();
    if let Some(m) = late.filter(|&m| m > PHOTO_SLACK_MINUTES) {
        reasons.push(Reason::new(
            ReasonCode::PhotoTime,
            format!("a photo was taken {m} minutes outside the visit"),
        ));
    }
    let far = photos.iter().filter_map(|p| p.metres).max();
    if let Some(m) = far.filter(|&m| m as f64 > PHOTO_DISTANCE_M) {
        reasons.push(Reason::new(
            ReasonCode::PhotoPlace,
            format!("a photo was taken {m} m from the location"),
        ));
    }
    reasons
}

// ------------------------------------------------------------------------ narratives

/// Permutations of a narrative's signature.
pub const SIGNATURE_LEN: usize = 64;
/// Bands of the signature for finding candidates (each of `SIGNATURE_LEN / BANDS` values):
/// two narratives with Jaccard 0.6 share a band with probability above 0.99.
pub const BANDS: usize = 16;
const SHINGLE_WORDS: usize = 5;

/// A MinHash signature of a narrative's 5-word shingles (words lowercased, punctuation
/// dropped), or `None` for one under [`NARRATIVE_MIN_WORDS`]. Its hash functions are fixed
/// here (FNV-1a, then SplitMix64 with a per-permutation seed), so signatures stored by one
/// version compare with the next.
pub fn signature(narrative: &str) -> Option<Vec<u64>> {
    let words: Vec<String> = narrative
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() < NARRATIVE_MIN_WORDS {
        return None;
    }
    let mut sig = vec![u64::MAX; SIGNATURE_LEN];
    for shingle in words.windows(SHINGLE_WORDS) {
        let base = fnv1a(shingle);
        for (i, slot) in sig.iter_mut().enumerate() {
            let h = splitmix64(base ^ splitmix64(i as u64 + 1));
            if h < *slot {
                *slot = h;
            }
        }
    }
    Some(sig)
}

/// The estimated Jaccard similarity of two signatures: the share of equal positions.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// The band keys of a signature: band number and a hash of its values, as stored for lookup.
pub fn bands(sig: &[u64]) -> Vec<String> {
    sig.chunks(SIGNATURE_LEN / BANDS)
        .enumerate()
        .map(|(i, chunk)| {
            let h = chunk
                .iter()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, v| splitmix64(h ^ v));
            format!("{i:02}:{h:016x}")
        })
        .collect()
}

/// A signature as stored: its values in hex, joined.
pub fn encode(sig: &[u64]) -> String {
    sig.iter().map(|v| format!("{v:016x}")).collect()
}

/// A stored signature; `None` when it is not one.
pub fn decode(s: &str) -> Option<Vec<u64>> {
    if s.len() != SIGNATURE_LEN * 16 || !s.is_ascii() {
        return None;
    }
    (0..SIGNATURE_LEN)
        .map(|i| {
            let part = s.get(i * 16..(i + 1) * 16)?;
            u64::from_str_radix(part, 16).ok()
        })
        .collect()
}

fn fnv1a(words: &[String]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for w in words {
        for b in w.bytes().chain(std::iter::once(b' ')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "The clerk greeted me at the door, offered help with the sofa \
        cushions, explained the delivery times clearly and carried the box to the counter \
        while I paid at the till without any wait";

    #[test]
    fn similar_narratives_have_similar_signatures() {
        let a = signature(TEXT).unwrap();
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(decode(&encode(&a)).unwrap(), a);
        let edited = TEXT.replace("without any wait", "with hardly a wait");
        let b = signature(&edited).unwrap();
        assert!(jaccard(&a, &b) >= NARRATIVE_JACCARD, "{}", jaccard(&a, &b));
        assert!(bands(&a).iter().zip(bands(&b)).any(|(x, y)| *x == y));
        let other = signature(
            "Nobody was at the entrance and I waited twelve minutes before a member of staff \
             noticed me; the shelves were untidy and the price labels on the lamps were missing",
        )
        .unwrap();
        assert!(jaccard(&a, &other) < 0.2);
        assert!(signature("too short to compare").is_none());
    }

    #[test]
    fn durations_are_judged_robustly() {
        let usual = [1500, 1600, 1700, 1800, 1800, 1900, 2000, 2100, 1750, 1850];
        assert!(duration(1800, &usual).is_none());
        assert!(duration(300, &usual).is_some());
        assert!(duration(7200, &usual).is_some());
        assert!(duration(300, &usual[..9]).is_none(), "too few to judge");
        // All alike: the spread is at least a minute.
        assert!(duration(1860, &[1800; 12]).is_none());
    }

    fn scales(values: &[i64]) -> (QuestionnaireContent, ReportSubmission) {
        let questions: Vec<_> = (0..values.len())
            .map(|i| {
                serde_json::json!({"key": format!("q{i}"), "text": "How?", "type": "scale",
                    "min": 1, "max": 5, "tier": "first"})
            })
            .collect();
        let content: QuestionnaireContent = serde_json::from_value(serde_json::json!({
            "title": "Scales",
            "sections": [{"key": "s", "title": "S", "questions": questions}],
        }))
        .unwrap();
        let answers: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, v)| serde_json::json!({"question": format!("q{i}"), "value": v}))
            .collect();
        let submission: ReportSubmission = serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::new_v4(),
            "location_id": uuid::Uuid::new_v4(),
            "questionnaire_id": uuid::Uuid::new_v4(),
            "visit": {"started_at": "2026-11-20T10:00:00+00:00",
                      "ended_at": "2026-11-20T10:20:00+00:00"},
            "answers": answers,
        }))
        .unwrap();
        (content, submission)
    }

    fn codes(values: &[i64]) -> Vec<ReasonCode> {
        let (content, submission) = scales(values);
        let score = crate::reports::scoring::score(&content, &submission.answers);
        let visit = Visit {
            submission: &submission,
            content: &content,
            score: &score,
            place: None,
            checkin_radius_m: 300.0,
        };
        assess(&visit, &Evidence::default())
            .into_iter()
            .map(|r| r.code)
            .collect()
    }

    #[test]
    fn five_equal_scale_answers_are_straight_lining() {
        assert_eq!(codes(&[3, 3, 3, 3, 3]), vec![ReasonCode::StraightLining]);
        assert!(codes(&[3, 3, 3, 3]).is_empty(), "four are too few");
        assert!(codes(&[3, 3, 4, 3, 3]).is_empty());
    }

    #[test]
    fn travel_needs_time_for_the_distance() {
        let at = |h: i64, m: i64| {
            DateTime::parse_from_rfc3339("2026-11-20T00:00:00+00:00")
                .unwrap()
                .with_timezone(&Utc)
                + TimeDelta::hours(h)
                + TimeDelta::minutes(m)
        };
        let lisbon = (38.7223, -9.1393);
        let porto = Neighbour {
            report: ReportId(uuid::Uuid::new_v4()),
            started: at(11, 0),
            ended: at(11, 20),
            lat: 41.1579,
            lon: -8.6291,
        };
        // 274 km at 200 km/h is 83 minutes: 40 are too few, 90 enough (either way round).
        assert!(travel(at(10, 0), at(10, 20), lisbon, std::slice::from_ref(&porto)).is_some());
        assert!(travel(at(9, 10), at(9, 30), lisbon, std::slice::from_ref(&porto)).is_none());
        assert!(travel(at(12, 0), at(12, 20), lisbon, std::slice::from_ref(&porto)).is_some());
        assert!(travel(at(13, 0), at(13, 20), lisbon, std::slice::from_ref(&porto)).is_none());
        // A neighbouring store at the same time is not travel.
        let next_door = Neighbour {
            lat: 38.7230,
            lon: -9.1400,
            ..porto.clone()
        };
        assert!(travel(at(11, 0), at(11, 20), lisbon, &[next_door]).is_none());
    }

    #[test]
    fn scores_add_penalties() {
        let p = Plausibility::of(photo_reasons(&[PhotoOffsets {
            minutes: Some(90),
            metres: Some(5_000),
        }]));
        assert_eq!(p.score, 100 - 20 - 25);
        let none = photo_reasons(&[PhotoOffsets {
            minutes: Some(10),
            metres: Some(200),
        }]);
        assert!(none.is_empty());
        assert_eq!(Plausibility::of(Vec::new()).score, 100);
    }
}
