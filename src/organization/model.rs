//! What an organization chooses for itself.

/// An organization's own choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrganizationSettings {
    /// The recognition feed shows staff first names.
    pub recognition_names: bool,
}
