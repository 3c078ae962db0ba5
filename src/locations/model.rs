//! Locations: the places mystery shoppers visit. Pure: parsing and checking only.

use chrono::{DateTime, Utc};

use crate::ids::{LocationId, OrgId};
use crate::validation::Violation;

pub const MAX_TAGS: usize = 20;
pub const MAX_ADDRESS_LINES: usize = 3;

/// ISO 3166-1 alpha-2 codes of the officially assigned countries and territories.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES \
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO \
IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK \
ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR \
PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK \
TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

pub fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)
}

/// A stored location.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub id: LocationId,
    pub org_id: OrgId,
    pub fields: LocationFields,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the aggregates show of a location: enough to name, list and group it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationBrief {
    pub id: LocationId,
    pub code: String,
    pub name: String,
    pub region: Option<String>,
}

impl Location {
    /// A new, active location of `org` with checked fields.
    pub fn new(org_id: OrgId, fields: LocationFields, now: DateTime<Utc>) -> Self {
        Location {
            id: LocationId::generate(),
            org_id,
            fields,
            active: true,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The fields an admin sets, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationFields {
    /// The organization's own code (store number), unique in the organization.
    pub code: String,
    pub name: String,
    pub address_lines: Vec<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// Free text used to group locations (e.g. "North", "Lisbon metro").
    pub region: Option<String>,
    /// IANA time zone, e.g. `Europe/Lisbon`.
    pub timezone: chrono_tz::Tz,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Lower-case labels.
    pub tags: Vec<String>,
}

/// What an import did with one row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    Created,
    Updated,
    /// The row has errors and was not written.
    Skipped,
}

impl ImportOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::Created => "created",
            ImportOutcome::Updated => "updated",
            ImportOutcome::Skipped => "skipped",
        }
    }
}

/// One row of an import and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRow {
    /// 1 for the first row after the header.
    pub row: usize,
    pub code: Option<String>,
    pub outcome: ImportOutcome,
    pub errors: Vec<Violation>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub rows: Vec<ImportedRow>,
}

/// Raw fields as they arrive (JSON body or CSV row), before checking.
#[derive(Debug, Clone, Default)]
pub struct RawLocation {
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
}

fn optional(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn clean_text(value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("cannot be empty".into());
    }
    if value.chars().count() > max {
        return Err(format!("has at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("cannot contain control characters".into());
    }
    Ok(value.to_string())
}

/// Normalises a tag: trimmed, lower-case, 1 to 50 characters, no `|`.
pub fn parse_tag(tag: &str) -> Result<String, String> {
    let tag = clean_text(tag, 50)?.to_lowercase();
    if tag.contains('|') {
        return Err("a tag cannot contain `|`".into());
    }
    Ok(tag)
}

/// Checks every field and reports every violation; `prefix` is prepended to the pointers
/// (e.g. `/rows/3` for an import row).
pub fn check(raw: RawLocation, prefix: &str) -> Result<LocationFields, Vec<Violation>> {
    let mut errors = Vec::new();
    fn record<T>(
        errors: &mut Vec<Violation>,
        prefix: &str,
        name: &str,
        result: Result<T, String>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                errors.push(Violation::new(
                    format!("{prefix}/{name}"),
                    "invalid_value",
                    format!("{name} {message}"),
                ));
                None
            }
        }
    }
    let code = record(&mut errors, prefix, "code", clean_text(&raw.code, 64));
    let name = record(&mut errors, prefix, "name", clean_text(&raw.name, 200));
    let city =
        optional(raw.city).and_then(|c| record(&mut errors, prefix, "city", clean_text(&c, 100)));
    let postal_code = optional(raw.postal_code)
        .and_then(|c| record(&mut errors, prefix, "postal_code", clean_text(&c, 20)));
    let region = optional(raw.region)
        .and_then(|c| record(&mut errors, prefix, "region", clean_text(&c, 100)));
    let timezone = record(
        &mut errors,
        prefix,
        "timezone",
        raw.timezone.trim().parse::<chrono_tz::Tz>().map_err(|_| {
            format!(
                "`{}` is not an IANA time zone such as Europe/Lisbon",
                raw.timezone.trim()
            )
        }),
    );
    let country = optional(raw.country).and_then(|c| {
        let upper = c.to_uppercase();
        record(
            &mut errors,
            prefix,
            "country",
            if is_country(&upper) {
                Ok(upper)
            } else {
                Err(format!("`{c}` is not an ISO 3166-1 alpha-2 country code"))
            },
        )
    });

    let lines: Vec<String> = raw
        .address_lines
        .into_iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > MAX_ADDRESS_LINES {
        errors.push(Violation::new(
            format!("{prefix}/address_lines"),
            "too_many",
            format!("at most {MAX_ADDRESS_LINES} address lines"),
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        if let Err(m) = clean_text(line, 200) {
            errors.push(Violation::new(
                format!("{prefix}/address_lines/{i}"),
                "invalid_value",
                format!("address line {m}"),
            ));
        }
    }

    match (raw.latitude, raw.longitude) {
        (None, None) => {}
        (Some(lat), Some(lon)) => {
            if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                errors.push(Violation::new(
                    format!("{prefix}/latitude"),
                    "out_of_range",
                    "latitude is from -90 to 90",
                ));
            }
            if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
                errors.push(Violation::new(
                    format!("{prefix}/longitude"),
                    "out_of_range",
                    "longitude is from -180 to 180",
                ));
            }
        }
        (Some(_), None) => errors.push(Violation::new(
            format!("{prefix}/longitude"),
            "required",
            "give both latitude and longitude, or neither",
        )),
        (None, Some(_)) => errors.push(Violation::new(
            format!("{prefix}/latitude"),
            "required",
            "give both latitude and longitude, or neither",
        )),
    }

    let mut tags: Vec<String> = Vec::new();
    for (i, tag) in raw.tags.iter().enumerate() {
        match parse_tag(tag) {
            Ok(tag) if !tags.contains(&tag) => tags.push(tag),
            Ok(_) => {}
            Err(m) => errors.push(Violation::new(
                format!("{prefix}/tags/{i}"),
                "invalid_value",
                m,
            )),
        }
    }
    if tags.len() > MAX_TAGS {
        errors.push(Violation::new(
            format!("{prefix}/tags"),
            "too_many",
            format!("at most {MAX_TAGS} tags"),
        ));
    }

    match (code, name, timezone) {
        (Some(code), Some(name), Some(timezone)) if errors.is_empty() => Ok(LocationFields {
            code,
            name,
            address_lines: lines,
            city,
            postal_code,
            country,
            region,
            timezone,
            latitude: raw.latitude,
            longitude: raw.longitude,
            tags,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawLocation {
        RawLocation {
            code: " S-0042 ".into(),
            name: "Chiado".into(),
            address_lines: vec!["Rua Garrett 10".into(), "".into()],
            city: Some("Lisboa".into()),
            postal_code: Some("1200-204".into()),
            country: Some("pt".into()),
            region: Some("  ".into()),
            timezone: "Europe/Lisbon".into(),
            latitude: Some(38.711),
            longitude: Some(-9.142),
            tags: vec!["Flagship".into(), "flagship".into(), "mall".into()],
        }
    }

    #[test]
    fn fields_are_normalised() {
        let f = check(raw(), "").unwrap();
        assert_eq!(f.code, "S-0042");
        assert_eq!(f.country.as_deref(), Some("PT"));
        assert_eq!(f.region, None);
        assert_eq!(f.address_lines, vec!["Rua Garrett 10"]);
        assert_eq!(f.tags, vec!["flagship", "mall"]);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut r = raw();
        r.code = "".into();
        r.timezone = "Mars/Olympus".into();
        r.country = Some("XX".into());
        r.latitude = Some(91.0);
        r.tags = vec!["a|b".into()];
        let errors = check(r, "/rows/2").unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        for p in [
            "/rows/2/code",
            "/rows/2/timezone",
            "/rows/2/country",
            "/rows/2/latitude",
            "/rows/2/tags/0",
        ] {
            assert!(pointers.contains(&p), "{p} in {pointers:?}");
        }
        let mut r = raw();
        r.longitude = None;
        assert_eq!(check(r, "").unwrap_err()[0].pointer, "/longitude");
    }

    #[test]
    fn country_codes_are_checked_against_the_list() {
        assert!(is_country("PT") && is_country("US") && is_country("GB"));
        assert!(!is_country("UK") && !is_country("pt") && !is_country("P"));
        assert_eq!(COUNTRIES.split(' ').count(), 249);
    }
}
