//! What a plausibility assessment found: the reasons and the score they leave (the rules
//! that find them are in `plausibility`). Pure: no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a visit is less plausible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The visit lasted far longer or shorter than the organization's visits with this
    /// questionnaire usually do (robust z above 3.5).
    UnusualDuration,
    /// The check-in was farther from the location than the check-in radius.
    CheckInDistance,
    /// The check-in was more than 30 minutes before the visit or after it.
    CheckInTime,
    /// Every scale answer the same (at least 5), or every answer at its maximum (at least 8).
    StraightLining,
    /// The narrative nearly repeats another report's of the last 90 days.
    RepeatedNarrative,
    /// A photo was taken more than an hour away from the visit's time.
    PhotoTime,
    /// A photo was taken more than 1 km from the location.
    PhotoPlace,
    /// The same shopper's visit at another store could not be reached in time.
    ImpossibleTravel,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 8] = [
        ReasonCode::UnusualDuration,
        ReasonCode::CheckInDistance,
        ReasonCode::CheckInTime,
        ReasonCode::StraightLining,
        ReasonCode::RepeatedNarrative,
        ReasonCode::PhotoTime,
        ReasonCode::PhotoPlace,
        ReasonCode::ImpossibleTravel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::UnusualDuration => "unusual_duration",
            ReasonCode::CheckInDistance => "check_in_distance",
            ReasonCode::CheckInTime => "check_in_time",
            ReasonCode::StraightLining => "straight_lining",
            ReasonCode::RepeatedNarrative => "repeated_narrative",
            ReasonCode::PhotoTime => "photo_time",
            ReasonCode::PhotoPlace => "photo_place",
            ReasonCode::ImpossibleTravel => "impossible_travel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the reason comes from the photos (assessed again when one arrives).
    pub fn from_photo(self) -> bool {
        matches!(self, ReasonCode::PhotoTime | ReasonCode::PhotoPlace)
    }

    /// What the reason takes off the score.
    pub fn penalty(self) -> u8 {
        match self {
            ReasonCode::UnusualDuration => 15,
            ReasonCode::CheckInDistance => 25,
            ReasonCode::CheckInTime => 15,
            ReasonCode::StraightLining => 15,
            ReasonCode::RepeatedNarrative => 30,
            ReasonCode::PhotoTime => 20,
            ReasonCode::PhotoPlace => 25,
            ReasonCode::ImpossibleTravel => 40,
        }
    }
}

/// One reason, with what it takes off and what was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub code: ReasonCode,
    /// Points taken off the score.
    pub penalty: u8,
    pub message: String,
}

impl Reason {
    pub(super) fn new(code: ReasonCode, message: String) -> Self {
        Reason {
            code,
            penalty: code.penalty(),
            message,
        }
    }
}

/// A score from 0 to 100 (100: nothing unusual) and its reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Plausibility {
    #[schema(minimum = 0, maximum = 100)]
    pub score: u8,
    pub reasons: Vec<Reason>,
}

impl Plausibility {
    /// The score of these reasons: 100 minus their penalties, at least 0.
    pub fn of(reasons: Vec<Reason>) -> Self {
        let taken: u32 = reasons.iter().map(|r| u32::from(r.penalty)).sum();
        Plausibility {
            score: u8::try_from(100u32.saturating_sub(taken)).unwrap_or(0),
            reasons,
        }
    }
}
