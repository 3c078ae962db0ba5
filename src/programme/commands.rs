//! What the programme's use cases are asked to do, apart from the bodies that carry the
//! requests: a handler turns a request body into one of these, and the use case checks it
//! against the programme's rules.

use chrono::NaiveDate;

use super::model::AssignmentStatus;
use super::schedule::Slot;
use crate::ids::{LocationId, UserId};

/// A new wave.
#[derive(Debug, Clone)]
pub struct NewWave {
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub questionnaire_key: String,
    pub visits_per_location: u32,
    pub region: Option<String>,
    pub tag: Option<String>,
}

/// Changes to a wave: `None` keeps a field; `Some(None)` clears a filter.
#[derive(Debug, Clone, Default)]
pub struct WaveChange {
    pub name: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub questionnaire_key: Option<String>,
    pub visits_per_location: Option<u32>,
    pub region: Option<Option<String>>,
    pub tag: Option<Option<String>>,
}

/// One visit planned by hand; the window defaults to the wave's.
#[derive(Debug, Clone)]
pub struct PlannedVisit {
    pub location_id: LocationId,
    pub shopper_id: Option<UserId>,
    pub visit_from: Option<NaiveDate>,
    pub visit_to: Option<NaiveDate>,
    pub slot: Option<Slot>,
    pub instructions: String,
}

/// Planning the rest of a wave at once.
#[derive(Debug, Clone, Default)]
pub struct GeneratePlan {
    /// Give each visit to a shopper (default `true`); `false` leaves them open.
    pub assign: Option<bool>,
    /// The shoppers to choose from (default: every active shopper).
    pub shopper_ids: Option<Vec<UserId>>,
    pub instructions: String,
}

/// Changes to an assignment: `None` keeps a field; `shopper_id: Some(None)` opens it.
#[derive(Debug, Clone, Default)]
pub struct AssignmentChange {
    pub shopper_id: Option<Option<UserId>>,
    pub visit_from: Option<NaiveDate>,
    pub visit_to: Option<NaiveDate>,
    pub slot: Option<Option<Slot>>,
    pub instructions: Option<String>,
}

/// Which of a wave's assignments to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssignmentFilter {
    pub status: Option<AssignmentStatus>,
    pub location_id: Option<LocationId>,
}
