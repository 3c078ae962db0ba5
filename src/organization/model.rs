//! What an organization chooses for itself.

/// An organization's own choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrganizationSettings {
    /// The recognition feed shows staff first names.
    pub recognition_names: bool,
    /// Action plans open automatically when a location's verdict becomes zero mile or a
    /// released visit has a critical failure.
    pub action_plans: bool,
}

/// A change of some settings; the others keep their value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub recognition_names: Option<bool>,
    pub action_plans: Option<bool>,
}

impl OrganizationSettings {
    pub fn changed(self, change: SettingsChange) -> OrganizationSettings {
        OrganizationSettings {
            recognition_names: change.recognition_names.unwrap_or(self.recognition_names),
            action_plans: change.action_plans.unwrap_or(self.action_plans),
        }
    }
}
