//! Query parameters that several endpoints share, each parsed once at the edge into a type
//! that is valid by construction: a region, a questionnaire key, a span of visit dates.
//! Every problem is a [`Violation`] under `/query/{name}`, so an endpoint lists them all.

use chrono::NaiveDate;

use crate::questionnaires::model::is_slug;
use crate::validation::Violation;

/// A region to filter locations by: at most [`Region::MAX_CHARS`] characters. A blank one
/// filters nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Region {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: Option<String>) -> Result<Option<Region>, Violation> {
        match raw {
            Some(r) if r.chars().count() > Self::MAX_CHARS => Err(Violation::new(
                "/query/region",
                "too_long",
                format!("a region has at most {} characters", Self::MAX_CHARS),
            )),
            Some(r) if !r.trim().is_empty() => Ok(Some(Region(r))),
            _ => Ok(None),
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A questionnaire key: 1 to 64 characters of a-z, 0-9, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionnaireKey(String);

impl QuestionnaireKey {
    pub fn parse(raw: Option<String>) -> Result<Option<QuestionnaireKey>, Violation> {
        match raw {
            Some(k) if !is_slug(&k) => Err(Violation::new(
                "/query/questionnaire_key",
                "invalid_key",
                "a key has 1 to 64 characters of a-z, 0-9, _ and -",
            )),
            k => Ok(k.map(QuestionnaireKey)),
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Local visit dates, each end optional and inclusive, the first not after the last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitDates {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl VisitDates {
    pub fn parse(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<VisitDates, Violation> {
        match (from, to) {
            (Some(f), Some(t)) if f > t => Err(Violation::new(
                "/query/visit_from",
                "out_of_range",
                "`visit_from` is after `visit_to`",
            )),
            _ => Ok(VisitDates { from, to }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_at_most_100_characters_and_blank_means_none() {
        assert_eq!(Region::parse(None).unwrap(), None);
        assert_eq!(Region::parse(Some("  ".into())).unwrap(), None);
        let lisbon = Region::parse(Some("Lisbon".into())).unwrap().unwrap();
        assert_eq!(lisbon.into_string(), "Lisbon");
        assert!(Region::parse(Some("é".repeat(100))).unwrap().is_some());
        let refused = Region::parse(Some("r".repeat(101))).unwrap_err();
        assert_eq!(
            (refused.pointer.as_str(), refused.code.as_str()),
            ("/query/region", "too_long")
        );
    }

    #[test]
    fn keys_are_slugs_and_visit_dates_run_forward() {
        assert!(
            QuestionnaireKey::parse(Some("store-visit".into()))
                .unwrap()
                .is_some()
        );
        assert!(QuestionnaireKey::parse(Some("Store Visit".into())).is_err());
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert!(VisitDates::parse(d("2026-01-02"), d("2026-01-02")).is_ok());
        assert!(VisitDates::parse(d("2026-01-03"), d("2026-01-02")).is_err());
        let mut violations = crate::validation::Violations::default();
        let region = violations.take(Region::parse(Some("r".repeat(101))));
        let key = violations.take(QuestionnaireKey::parse(Some("?".into())));
        assert_eq!((region, key), (None, None));
        assert_eq!(violations.into_result(()).unwrap_err().len(), 2);
    }
}
