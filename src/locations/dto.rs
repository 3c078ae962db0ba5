//! Request and response bodies of the location endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{ImportOutcome, ImportSummary, Location, RawLocation};
use crate::ids::LocationId;
use crate::validation::Violation;

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "S-0042", "name": "Chiado", "address_lines": ["Rua Garrett 10"], "city": "Lisboa", "postal_code": "1200-204", "country": "PT", "region": "Lisbon", "timezone": "Europe/Lisbon", "latitude": 38.711, "longitude": -9.142, "tags": ["flagship"]}))]
pub struct CreateLocationRequest {
    /// The organization's own code (store number); unique in the organization.
    #[schema(max_length = 64)]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_items = 3)]
    pub address_lines: Vec<String>,
    #[schema(max_length = 100)]
    pub city: Option<String>,
    #[schema(max_length = 20)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(min_length = 2, max_length = 2)]
    pub country: Option<String>,
    #[schema(max_length = 100)]
    pub region: Option<String>,
    /// IANA time zone, e.g. `Europe/Lisbon`.
    pub timezone: String,
    /// With `longitude`, or neither.
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

impl From<CreateLocationRequest> for RawLocation {
    fn from(r: CreateLocationRequest) -> Self {
        RawLocation {
            code: r.code,
            name: r.name,
            address_lines: r.address_lines,
            city: r.city,
            postal_code: r.postal_code,
            country: r.country,
            region: r.region,
            timezone: r.timezone,
            latitude: r.latitude,
            longitude: r.longitude,
            tags: r.tags,
        }
    }
}

/// Changes to a location: absent fields stay, `null` clears an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Chiado (renovated)", "tags": ["flagship", "mall"], "postal_code": null}))]
pub struct UpdateLocationRequest {
    #[schema(max_length = 64)]
    pub code: Option<String>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_items = 3)]
    pub address_lines: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 20)]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 2, max_length = 2)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub region: Option<Option<String>>,
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>, minimum = -90, maximum = 90)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>, minimum = -180, maximum = 180)]
    pub longitude: Option<Option<f64>>,
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// `true` reactivates a deactivated location.
    pub active: Option<bool>,
}

impl UpdateLocationRequest {
    /// The location's fields with these changes applied, ready to be checked again.
    pub fn apply(self, current: &Location) -> (RawLocation, Option<bool>) {
        let f = current.fields.clone();
        let raw = RawLocation {
            code: self.code.unwrap_or(f.code),
            name: self.name.unwrap_or(f.name),
            address_lines: self.address_lines.unwrap_or(f.address_lines),
            city: self.city.unwrap_or(f.city),
            postal_code: self.postal_code.unwrap_or(f.postal_code),
            country: self.country.unwrap_or(f.country),
            region: self.region.unwrap_or(f.region),
            timezone: self
                .timezone
                .unwrap_or_else(|| f.timezone.name().to_string()),
            latitude: self.latitude.unwrap_or(f.latitude),
            longitude: self.longitude.unwrap_or(f.longitude),
            tags: self.tags.unwrap_or(f.tags),
        };
        (raw, self.active)
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationResponse {
    pub id: LocationId,
    pub code: String,
    pub name: String,
    pub address_lines: Vec<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub timezone: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub tags: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Location> for LocationResponse {
    fn from(l: Location) -> Self {
        let f = l.fields;
        LocationResponse {
            id: l.id,
            code: f.code,
            name: f.name,
            address_lines: f.address_lines,
            city: f.city,
            postal_code: f.postal_code,
            country: f.country,
            region: f.region,
            timezone: f.timezone.name().to_string(),
            latitude: f.latitude,
            longitude: f.longitude,
            tags: f.tags,
            active: l.active,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListLocationsQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
    /// Exact region.
    pub region: Option<String>,
    /// Locations carrying this tag.
    pub tag: Option<String>,
    pub active: Option<bool>,
    /// Exact code.
    pub code: Option<String>,
    /// Case-insensitive text in the name.
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: write the valid rows and report the others; default: write nothing unless
    /// every row is valid.
    pub partial: Option<bool>,
}

/// What happened to one row of an import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportRow {
    /// 1 for the first row after the header.
    pub row: usize,
    pub code: Option<String>,
    /// `skipped`: the row has errors and was not written.
    pub outcome: ImportOutcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Violation>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub rows: Vec<ImportRow>,
}

impl From<ImportSummary> for ImportReport {
    fn from(s: ImportSummary) -> Self {
        ImportReport {
            created: s.created,
            updated: s.updated,
            skipped: s.skipped,
            rows: s
                .rows
                .into_iter()
                .map(|r| ImportRow {
                    row: r.row,
                    code: r.code,
                    outcome: r.outcome,
                    errors: r.errors,
                })
                .collect(),
        }
    }
}

/// The locations a manager may see.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"location_ids": ["0193a5f0-1111-7000-8000-000000000001", "0193a5f0-1111-7000-8000-000000000002"]}))]
pub struct ManagerLocations {
    #[schema(max_items = 10000)]
    pub location_ids: Vec<LocationId>,
}
