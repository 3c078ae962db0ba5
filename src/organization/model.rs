//! What an organization chooses for itself.

/// An organization's own choices (serialized as the API shows them, for the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OrganizationSettings {
    /// The recognition feed shows staff first names.
    pub recognition_names: bool,
    /// Action plans open automatically when a location's verdict becomes zero mile or a
    /// released visit has a critical failure.
    pub action_plans: bool,
    /// Days after a report's release in which a manager may appeal it.
    pub appeal_window_days: u32,
    /// Days after a visit after which its narrative, staff observed and photos of staff
    /// are deleted; 0 keeps them.
    pub personal_data_retention_days: u32,
}

/// The default appeal window.
pub const DEFAULT_APPEAL_WINDOW_DAYS: u32 = 14;
/// The longest appeal window.
pub const MAX_APPEAL_WINDOW_DAYS: u32 = 365;
/// The shortest retention of personal text (past the appeal window and the review of a
/// late report) and the longest.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=3650;

impl Default for OrganizationSettings {
    fn default() -> Self {
        OrganizationSettings {
            recognition_names: false,
            action_plans: false,
            appeal_window_days: DEFAULT_APPEAL_WINDOW_DAYS,
            personal_data_retention_days: 0,
        }
    }
}

/// A change of some settings; the others keep their value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub recognition_names: Option<bool>,
    pub action_plans: Option<bool>,
    pub appeal_window_days: Option<u32>,
    pub personal_data_retention_days: Option<u32>,
}

impl OrganizationSettings {
    pub fn changed(self, change: SettingsChange) -> OrganizationSettings {
        OrganizationSettings {
            recognition_names: change.recognition_names.unwrap_or(self.recognition_names),
            action_plans: change.action_plans.unwrap_or(self.action_plans),
            appeal_window_days: change.appeal_window_days.unwrap_or(self.appeal_window_days),
            personal_data_retention_days: change
                .personal_data_retention_days
                .unwrap_or(self.personal_data_retention_days),
        }
    }
}
