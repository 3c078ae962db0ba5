//! Waves, assignments and the organization's programme settings. Pure: no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::{DateRange, LockoutRules};
use super::schedule::Slot;
use crate::ids::{AssignmentId, LocationId, OrgId, ReportId, UserId, WaveId};

/// A period of the programme in which each location in scope is to be visited
/// `visits_per_location` times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    pub id: WaveId,
    pub org_id: OrgId,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub questionnaire_key: String,
    pub visits_per_location: u32,
    /// Only locations of this region (with `tag`: both).
    pub region: Option<String>,
    /// Only locations with this tag.
    pub tag: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Wave {
    pub fn window(&self) -> DateRange {
        DateRange::new(self.starts_on, self.ends_on)
    }

    /// Its dates and scope may change until its first day (anywhere on Earth).
    pub fn started(&self, now: DateTime<Utc>) -> bool {
        earliest_local_date(now) >= self.starts_on
    }
}

/// The state of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Planned, no shopper yet: shoppers may claim it.
    Open,
    /// Given to a shopper, who has not answered yet.
    Assigned,
    /// The shopper will do it.
    Accepted,
    /// A report names it.
    Completed,
    /// The shopper said no (with a reason); an admin may give it to someone else.
    Declined,
    /// An admin called it off.
    Cancelled,
    /// Its window ended before it was completed (computed when read, never stored).
    Expired,
}

impl AssignmentStatus {
    pub const STORED: [AssignmentStatus; 6] = [
        AssignmentStatus::Open,
        AssignmentStatus::Assigned,
        AssignmentStatus::Accepted,
        AssignmentStatus::Completed,
        AssignmentStatus::Declined,
        AssignmentStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentStatus::Open => "open",
            AssignmentStatus::Assigned => "assigned",
            AssignmentStatus::Accepted => "accepted",
            AssignmentStatus::Completed => "completed",
            AssignmentStatus::Declined => "declined",
            AssignmentStatus::Cancelled => "cancelled",
            AssignmentStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AssignmentStatus::STORED
            .into_iter()
            .chain([AssignmentStatus::Expired])
            .find(|x| x.as_str() == s)
    }

    /// Still to be done: counts for lockouts and coverage until its window ends.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            AssignmentStatus::Open | AssignmentStatus::Assigned | AssignmentStatus::Accepted
        )
    }
}

/// One planned visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: AssignmentId,
    pub org_id: OrgId,
    pub wave_id: WaveId,
    pub location_id: LocationId,
    pub shopper_id: Option<UserId>,
    pub visit_from: NaiveDate,
    pub visit_to: NaiveDate,
    pub slot: Option<Slot>,
    pub instructions: String,
    /// As stored (never `Expired`; see `status_at`).
    pub status: AssignmentStatus,
    pub report_id: Option<ReportId>,
    pub decline_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Assignment {
    /// A new planned visit of `wave`: given to `shopper` (`assigned`) or open for claiming.
    pub fn planned(
        wave: &Wave,
        location: LocationId,
        shopper: Option<UserId>,
        window: DateRange,
        slot: Option<Slot>,
        instructions: &str,
        now: DateTime<Utc>,
    ) -> Assignment {
        Assignment {
            id: AssignmentId::generate(),
            org_id: wave.org_id,
            wave_id: wave.id,
            location_id: location,
            shopper_id: shopper,
            visit_from: window.from,
            visit_to: window.to,
            slot,
            instructions: instructions.trim().to_string(),
            status: match shopper {
                Some(_) => AssignmentStatus::Assigned,
                None => AssignmentStatus::Open,
            },
            report_id: None,
            decline_reason: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn window(&self) -> DateRange {
        DateRange::new(self.visit_from, self.visit_to)
    }

    /// The status as of `now`: an active assignment whose window has ended everywhere is
    /// expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> AssignmentStatus {
        if self.status.is_active() && self.visit_to < earliest_local_date(now) {
            AssignmentStatus::Expired
        } else {
            self.status
        }
    }

    /// A shopper's order, as a key whose byte order is the order: what is still to do first,
    /// earliest deadline first, then the rest, latest change first; the id breaks ties.
    pub fn to_do_order(&self, now: DateTime<Utc>) -> String {
        let due = self.status_at(now).is_active();
        let deadline = if due {
            self.visit_to.format("%Y%m%d").to_string()
        } else {
            "99999999".to_string()
        };
        let newest_first = i64::MAX.saturating_sub(self.updated_at.timestamp_micros().max(0));
        format!(
            "{}|{deadline}|{newest_first:019}|{}",
            u8::from(!due),
            self.id
        )
    }

    /// Earliest deadline first, as a key whose byte order is the order.
    pub fn deadline_order(&self) -> String {
        format!("{}|{}", self.visit_to.format("%Y%m%d"), self.id)
    }

    /// A wave's order (by location, then window), as a key whose byte order is the order.
    pub fn wave_order(&self) -> String {
        format!(
            "{}|{}|{}",
            self.location_id,
            self.visit_from.format("%Y%m%d"),
            self.id
        )
    }
}

/// The date in the time zone that is furthest behind (UTC-12): a local date has ended
/// everywhere once this date is past it.
pub fn earliest_local_date(now: DateTime<Utc>) -> NaiveDate {
    (now - chrono::Duration::hours(12)).date_naive()
}

/// The organization's programme settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgrammeSettings {
    pub rules: LockoutRules,
    /// Every report must name an assignment.
    pub require_assignment: bool,
}

/// A wave with some of its assignments (those a request created, or those asked for).
#[derive(Debug, Clone)]
pub struct WaveAssignments {
    pub wave: Wave,
    pub assignments: Vec<Assignment>,
}

/// What planning a wave did: the assignments it created, how many of them found no
/// shopper, and how many locations it counted.
#[derive(Debug, Clone)]
pub struct Generated {
    pub wave: Wave,
    pub created: Vec<Assignment>,
    pub unassigned: u32,
    pub locations: u32,
}

/// One location's visits in a wave.
#[derive(Debug, Clone)]
pub struct LocationCoverage {
    pub location_id: LocationId,
    pub code: String,
    pub name: String,
    pub region: Option<String>,
    /// Visits the wave asks for.
    pub required: u32,
    /// Released reports of the wave's questionnaire key with a visit date in the wave.
    pub completed: u32,
    /// Planned visits given to a shopper, window not ended.
    pub assigned: u32,
    /// Planned visits open for claiming.
    pub open: u32,
}

impl LocationCoverage {
    /// Visits neither completed nor given to a shopper.
    pub fn gap(&self) -> u32 {
        self.required
            .saturating_sub(self.completed)
            .saturating_sub(self.assigned)
    }
}

/// A wave's coverage as the asker may see it: managers never see who is coming
/// (`planning_shown` false), only what is required and done.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub wave_id: WaveId,
    pub locations: Vec<LocationCoverage>,
    pub planning_shown: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_expires_once_its_last_day_has_ended_everywhere() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let a = Assignment {
            id: AssignmentId::generate(),
            org_id: OrgId::generate(),
            wave_id: WaveId::generate(),
            location_id: LocationId::generate(),
            shopper_id: None,
            visit_from: day("2026-03-01"),
            visit_to: day("2026-03-10"),
            slot: None,
            instructions: String::new(),
            status: AssignmentStatus::Accepted,
            report_id: None,
            decline_reason: None,
            created_at: at("2026-02-01T00:00:00Z"),
            updated_at: at("2026-02-01T00:00:00Z"),
        };
        // 10 March ends at 12:00 UTC on 11 March in UTC-12.
        assert_eq!(
            a.status_at(at("2026-03-11T11:59:00Z")),
            AssignmentStatus::Accepted
        );
        assert_eq!(
            a.status_at(at("2026-03-11T12:00:00Z")),
            AssignmentStatus::Expired
        );
        let done = Assignment {
            status: AssignmentStatus::Completed,
            ..a
        };
        assert_eq!(
            done.status_at(at("2027-01-01T00:00:00Z")),
            AssignmentStatus::Completed
        );
        for s in AssignmentStatus::STORED {
            assert_eq!(AssignmentStatus::parse(s.as_str()), Some(s));
        }
    }
}
