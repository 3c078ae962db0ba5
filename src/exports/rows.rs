//! Pure: what one report, answer or standing becomes as a CSV record. Every text cell is
//! neutralised against formula injection: a spreadsheet evaluates a cell that begins with
//! `=`, `+`, `-` or `@` (and some also a tab or carriage return), so such a cell gets a
//! leading apostrophe, which spreadsheets show as text.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::aggregates::figures::{Figures, Proportion};
use crate::locations::model::{Location, LocationBrief};
use crate::questionnaires::language::canonical_tag;
use crate::reports::model::Report;

/// A text cell that a spreadsheet cannot take for a formula.
pub fn text(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A number cell: empty for none.
pub fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Which columns a report export has.
#[derive(Debug, Clone)]
pub struct ReportColumns {
    /// Section keys of the questionnaire asked for, in order (a column each).
    pub sections: Vec<String>,
    /// The shopper's id and the staff descriptions (admins who ask only).
    pub personal: bool,
}

impl ReportColumns {
    /// A second header row for readers: each section column named by its title in `titles`
    /// (section key to title), the other cells empty.
    pub fn labels(&self, titles: &HashMap<String, String>) -> Vec<String> {
        self.header()
            .iter()
            .map(|column| {
                column
                    .strip_prefix("section_")
                    .filter(|key| self.sections.iter().any(|s| s == key))
                    .and_then(|key| titles.get(key))
                    .map(|title| text(title).into_owned())
                    .unwrap_or_default()
            })
            .collect()
    }

    pub fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = [
            "report_id",
            "location_code",
            "location_name",
            "region",
            "questionnaire_key",
            "questionnaire_version",
            "visit_local_date",
            "status",
            "revision",
            "overall_score",
            "first_tier_score",
            "second_tier_score",
            "mile_level",
            "critical_failures",
            "language",
        ]
        .map(String::from)
        .to_vec();
        h.extend(self.sections.iter().map(|s| format!("section_{s}")));
        if self.personal {
            h.push("shopper_id".into());
            h.push("staff_observed".into());
        }
        h
    }

    /// One report's record.
    pub fn record(
        &self,
        r: &Report,
        location: Option<&Location>,
        version: Option<i32>,
    ) -> Vec<String> {
        let score = &r.document.score;
        let mut row = vec![
            r.id.to_string(),
            location
                .map(|l| text(&l.fields.code).into_owned())
                .unwrap_or_default(),
            location
                .map(|l| text(&l.fields.name).into_owned())
                .unwrap_or_default(),
            location
                .and_then(|l| l.fields.region.as_deref())
                .map(|x| text(x).into_owned())
                .unwrap_or_default(),
            text(&r.questionnaire_key).into_owned(),
            version.map(|v| v.to_string()).unwrap_or_default(),
            r.visit_local_date.to_string(),
            r.status.as_str().to_string(),
            r.revision.to_string(),
            number(score.overall),
            number(score.first_tier),
            number(score.second_tier),
            score.mile_level.as_str().to_string(),
            text(&score.critical_failures.join(";")).into_owned(),
            language(r),
        ];
        for key in &self.sections {
            row.push(number(
                score
                    .sections
                    .iter()
                    .find(|s| &s.key == key)
                    .and_then(|s| s.score),
            ));
        }
        if self.personal {
            row.push(r.shopper_id.to_string());
            let staff: Vec<&str> = r
                .document
                .submission
                .staff_observed
                .iter()
                .map(|s| s.description.as_str())
                .collect();
            row.push(text(&staff.join("; ")).into_owned());
        }
        row
    }
}

/// The language a report was answered in, in its canonical case as the API shows it (empty
/// when the app did not say).
fn language(r: &Report) -> String {
    let given = r
        .document
        .submission
        .language
        .as_deref()
        .unwrap_or_default();
    canonical_tag(given).unwrap_or_else(|_| text(given).into_owned())
}

/// The header of the answers layout (`question_text` with question texts).
pub fn answer_header(personal: bool, texts: bool) -> Vec<String> {
    let mut h: Vec<String> = [
        "report_id",
        "location_code",
        "visit_local_date",
        "status",
        "language",
        "section",
        "question",
    ]
    .map(String::from)
    .to_vec();
    if texts {
        h.push("question_text".into());
    }
    h.extend(["value", "na", "points_earned", "points_possible"].map(String::from));
    h.push("comment".into());
    if personal {
        h.push("shopper_id".into());
    }
    h
}

/// An answer value as a cell: a scalar as it is, a list joined with `;`.
fn value_cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => text(s).into_owned(),
        Some(serde_json::Value::Array(items)) => text(
            &items
                .iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(";"),
        )
        .into_owned(),
        Some(other) => other.to_string(),
    }
}

/// One record per answer of a report: its section (from the report's questionnaire), value,
/// N/A, and the points it earned of those possible (empty when it did not count); with
/// `texts` (question key to text), the question's text beside its key.
pub fn answer_records(
    r: &Report,
    location: Option<&Location>,
    section_of: &dyn Fn(&str) -> Option<String>,
    texts: Option<&HashMap<String, String>>,
    personal: bool,
) -> Vec<Vec<String>> {
    let code = location
        .map(|l| text(&l.fields.code).into_owned())
        .unwrap_or_default();
    r.document
        .submission
        .answers
        .iter()
        .map(|a| {
            let points = r
                .document
                .score
                .questions
                .iter()
                .find(|q| q.key == a.question && q.counted);
            let mut row = vec![
                r.id.to_string(),
                code.clone(),
                r.visit_local_date.to_string(),
                r.status.as_str().to_string(),
                language(r),
                section_of(&a.question).unwrap_or_default(),
                text(&a.question).into_owned(),
            ];
            if let Some(texts) = texts {
                row.push(
                    texts
                        .get(&a.question)
                        .map(|t| text(t).into_owned())
                        .unwrap_or_default(),
                );
            }
            row.extend([
                value_cell(a.value.as_ref()),
                a.na.to_string(),
                number(points.map(|p| p.earned)),
                number(points.map(|p| p.possible)),
                text(a.comment.as_deref().unwrap_or_default()).into_owned(),
            ]);
            if personal {
                row.push(r.shopper_id.to_string());
            }
            row
        })
        .collect()
}

/// The leaderboard's header.
pub fn standing_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "rank",
        "location_code",
        "location_name",
        "region",
        "visits",
        "scored_visits",
        "mean_score",
        "mean_ci95_low",
        "mean_ci95_high",
        "sd_score",
        "median_score",
        "min_score",
        "max_score",
    ]
    .map(String::from)
    .to_vec();
    for p in [
        "zero_mile",
        "first_mile",
        "second_mile",
        "critical_failures",
    ] {
        for part in ["count", "rate", "ci95_low", "ci95_high"] {
            h.push(format!("{p}_{part}"));
        }
    }
    h.push("low_sample".into());
    h.push("verdict".into());
    h
}

/// One standing's record.
pub fn standing_record(rank: u64, location: &LocationBrief, f: &Figures) -> Vec<String> {
    let mut row = vec![
        rank.to_string(),
        text(&location.code).into_owned(),
        text(&location.name).into_owned(),
        location
            .region
            .as_deref()
            .map(|r| text(r).into_owned())
            .unwrap_or_default(),
        f.visits.to_string(),
        f.scored_visits.to_string(),
        number(f.mean_score),
        number(f.mean_ci95.map(|c| c[0])),
        number(f.mean_ci95.map(|c| c[1])),
        number(f.sd_score),
        number(f.median_score),
        number(f.min_score),
        number(f.max_score),
    ];
    for p in [
        &f.zero_mile,
        &f.first_mile,
        &f.second_mile,
        &f.critical_failures,
    ] {
        row.extend(proportion(p));
    }
    row.push(f.low_sample.to_string());
    row.push(f.verdict.as_str().to_string());
    row
}

fn proportion(p: &Proportion) -> [String; 4] {
    [
        p.count.to_string(),
        number(p.rate),
        number(p.ci95.map(|c| c[0])),
        number(p.ci95.map(|c| c[1])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_evaluate_are_neutralised() {
        for evil in ["=1+1", "+33 1 23", "-2", "@SUM(A1)", "\tx", "\r=x"] {
            assert_eq!(text(evil), format!("'{evil}"));
        }
        for fine in ["Main Street", "1+1", "", "a=b", "'quoted"] {
            assert_eq!(text(fine), fine);
        }
        assert_eq!(number(None), "");
        assert_eq!(number(Some(78.41)), "78.41");
    }
}
