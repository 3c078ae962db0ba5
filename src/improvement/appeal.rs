//! Appeals: a manager disputes answers of a released report of their location, within the
//! organization's appeal window; a reviewer upholds the report (nothing changes) or amends
//! the disputed answers (the report is re-scored as a new revision). Pure: no I/O.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{AppealId, LocationId, OrgId, ReportId, UserId};

/// Where an appeal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AppealStatus)]
pub enum AppealStatus {
    /// Waiting for a reviewer.
    Open,
    /// The report stands as it was.
    Upheld,
    /// The disputed answers were corrected and the report re-scored.
    Amended,
}

impl AppealStatus {
    pub const ALL: [AppealStatus; 3] = [
        AppealStatus::Open,
        AppealStatus::Upheld,
        AppealStatus::Amended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealStatus::Open => "open",
            AppealStatus::Upheld => "upheld",
            AppealStatus::Amended => "amended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AppealStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AppealDecision)]
pub enum AppealDecision {
    Uphold,
    Amend,
}

/// An appeal against one released report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    pub id: AppealId,
    pub org_id: OrgId,
    pub report_id: ReportId,
    pub location_id: LocationId,
    /// The manager who appealed (never shown to the shopper).
    pub appellant_id: UserId,
    pub status: AppealStatus,
    /// The disputed question keys.
    pub questions: Vec<String>,
    pub reason: String,
    /// The report's revision when appealed.
    pub revision: i32,
    /// The revision the amendment made.
    pub amended_revision: Option<i32>,
    pub opened_at: DateTime<Utc>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// The file the appellant attached (a receipt, a rota), if any.
    pub evidence: Option<Evidence>,
}

/// An appeal's evidence: one file, stored as a report's attachments are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub storage_key: String,
    pub media_type: String,
    /// Bytes as stored.
    pub size: i64,
    /// Hex SHA-256 of the bytes as stored.
    pub sha256: String,
    /// Hex SHA-256 of the bytes as uploaded (what a retry is compared with).
    pub uploaded_sha256: String,
    pub attached_at: DateTime<Utc>,
}

/// Whether a report released at `released_at` may still be appealed at `now` within a
/// window of `days` days.
pub fn within_window(released_at: DateTime<Utc>, now: DateTime<Utc>, days: u32) -> bool {
    now <= released_at + TimeDelta::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_days_from_the_release() {
        let released = "2026-12-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(within_window(released, at("2026-12-15T10:00:00Z"), 14));
        assert!(!within_window(released, at("2026-12-15T10:00:01Z"), 14));
        for s in AppealStatus::ALL {
            assert_eq!(AppealStatus::parse(s.as_str()), Some(s));
        }
    }
}
