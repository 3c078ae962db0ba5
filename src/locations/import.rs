//! Parsing a CSV file of locations into checked rows. Pure: no I/O.

use std::collections::HashMap;

use super::model::{LocationFields, RawLocation, check};
use crate::validation::Violation;

pub const MAX_ROWS: usize = 10_000;

const COLUMNS: [&str; 13] = [
    "code",
    "name",
    "address_line1",
    "address_line2",
    "address_line3",
    "city",
    "postal_code",
    "country",
    "region",
    "timezone",
    "latitude",
    "longitude",
    "tags",
];
const REQUIRED: [&str; 3] = ["code", "name", "timezone"];

/// One data row: its checked fields, or the violations that stop it.
#[derive(Debug)]
pub struct ParsedRow {
    /// 1 for the first row after the header.
    pub row: usize,
    pub code: Option<String>,
    pub fields: Option<LocationFields>,
    pub errors: Vec<Violation>,
}

/// Reads the header and every row. A bad header, or an unreadable file, is an error for the
/// whole file; a bad row only for that row (pointers `/rows/N/column`).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<ParsedRow>, Vec<Violation>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| {
            vec![Violation::new(
                "/header",
                "unreadable",
                format!("the header row cannot be read: {e}"),
            )]
        })?
        .clone();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, name) in headers.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}').trim();
        match COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            Some(column) if index.contains_key(column) => errors.push(Violation::new(
                format!("/header/{i}"),
                "duplicate_column",
                format!("column `{name}` appears twice"),
            )),
            Some(column) => {
                index.insert(column, i);
            }
            None => errors.push(Violation::new(
                format!("/header/{i}"),
                "unknown_column",
                format!(
                    "unknown column `{name}`; the columns are {}",
                    COLUMNS.join(", ")
                ),
            )),
        }
    }
    for required in REQUIRED {
        if !index.contains_key(required) {
            errors.push(Violation::new(
                "/header",
                "missing_column",
                format!("the column `{required}` is required"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut rows = Vec::new();
    let mut seen_codes: HashMap<String, usize> = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let row = n + 1;
        if row > MAX_ROWS {
            return Err(vec![Violation::new(
                "/rows",
                "too_many",
                format!("at most {MAX_ROWS} rows per file"),
            )]);
        }
        let prefix = format!("/rows/{row}");
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(ParsedRow {
                    row,
                    code: None,
                    fields: None,
                    errors: vec![Violation::new(
                        prefix,
                        "unreadable",
                        format!("the row cannot be read: {e}"),
                    )],
                });
                continue;
            }
        };
        let get = |column: &str| {
            index
                .get(column)
                .and_then(|i| record.get(*i))
                .map(str::to_string)
                .filter(|v| !v.is_empty())
        };
        let mut row_errors = Vec::new();
        let mut number = |column: &str| -> Option<f64> {
            let raw = get(column)?;
            match raw.parse::<f64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    row_errors.push(Violation::new(
                        format!("{prefix}/{column}"),
                        "invalid_number",
                        format!("`{raw}` is not a number"),
                    ));
                    None
                }
            }
        };
        let latitude = number("latitude");
        let longitude = number("longitude");
        let raw = RawLocation {
            code: get("code").unwrap_or_default(),
            name: get("name").unwrap_or_default(),
            address_lines: ["address_line1", "address_line2", "address_line3"]
                .iter()
                .filter_map(|c| get(c))
                .collect(),
            city: get("city"),
            postal_code: get("postal_code"),
            country: get("country"),
            region: get("region"),
            timezone: get("timezone").unwrap_or_default(),
            latitude,
            longitude,
            tags: get("tags")
                .map(|t| {
                    t.split(';')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let code = Some(raw.code.clone()).filter(|c| !c.is_empty());
        if let Some(code) = &code {
            if let Some(first) = seen_codes.get(code) {
                row_errors.push(Violation::new(
                    format!("{prefix}/code"),
                    "duplicate_code",
                    format!("code `{code}` is already on row {first}"),
                ));
            } else {
                seen_codes.insert(code.clone(), row);
            }
        }
        let fields = match check(raw, &prefix) {
            Ok(fields) if row_errors.is_empty() => Some(fields),
            Ok(_) => None,
            Err(mut found) => {
                row_errors.append(&mut found);
                None
            }
        };
        rows.push(ParsedRow {
            row,
            code,
            fields,
            errors: row_errors,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_parsed_and_checked_one_by_one() {
        let csv = "\u{feff}Code,name,timezone,latitude,longitude,tags,country\n\
                   S-1,Chiado,Europe/Lisbon,38.7,-9.1,flagship; mall,pt\n\
                   S-2,,Nowhere/Town,north,,,\n\
                   S-1,Again,Europe/Lisbon,,,,\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        let first = rows[0].fields.as_ref().unwrap();
        assert_eq!(first.tags, vec!["flagship", "mall"]);
        assert_eq!(first.country.as_deref(), Some("PT"));
        let pointers: Vec<&str> = rows[1].errors.iter().map(|e| e.pointer.as_str()).collect();
        for p in ["/rows/2/name", "/rows/2/timezone", "/rows/2/latitude"] {
            assert!(pointers.contains(&p), "{p} in {pointers:?}");
        }
        assert_eq!(rows[2].errors[0].code, "duplicate_code");
    }

    #[test]
    fn a_bad_header_rejects_the_file() {
        let errors = parse_csv(b"code,nom,timezone,code\n").unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["unknown_column", "duplicate_column", "missing_column"]
        );
    }
}
