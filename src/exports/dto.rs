//! Query parameters of the exports.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::ids::LocationId;
use crate::reports::dto::{ReportFilterParams, report_filter_params};
use crate::reports::model::ReportStatus;
use crate::reports::scoring::MileLevel;

/// One row per report (default) or one row per answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportLayout {
    Reports,
    Answers,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportExportQuery {
    pub location_id: Option<LocationId>,
    /// Reports of locations in this region.
    #[param(max_length = 100)]
    pub region: Option<String>,
    pub status: Option<ReportStatus>,
    pub mile_level: Option<MileLevel>,
    /// Reports answering this questionnaire key; adds a score column per section of its
    /// latest version.
    #[param(max_length = 64)]
    pub questionnaire_key: Option<String>,
    /// First local visit date, inclusive (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub visit_from: Option<NaiveDate>,
    /// Last local visit date, inclusive (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub visit_to: Option<NaiveDate>,
    /// Reports changed at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<DateTime<Utc>>,
    /// `reports` (default): one row per report; `answers`: one row per answer.
    pub layout: Option<ExportLayout>,
    /// Admins only: add the shopper's id and the staff descriptions (personal data).
    pub include_personal: Option<bool>,
    /// A BCP 47 language for readers' labels (the columns keep their keys): a second header
    /// row naming each section column by its title (`reports` layout), or a `question_text`
    /// column beside `question` (`answers` layout), in the best language each version has.
    #[param(max_length = 35)]
    pub header_language: Option<String>,
}

impl ReportExportQuery {
    /// The filters of this export (the same as the report list's).
    pub fn filter_params(&mut self) -> ReportFilterParams {
        report_filter_params!(self)
    }
}
