//! The recognition feed: released second-mile visits, newest first, with the second-tier
//! behaviours that were met and the shopper's own words about them. The seeds' advice is to
//! acknowledge publicly the staff who go the extra mile; this is the data for it. The
//! shopper is never named; staff only by the first name the shopper reported, and only when
//! the organization allows it (`recognition_names`); staff descriptions never.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::service::{AggregateError, Range};
use crate::db::locations as location_store;
use crate::db::questionnaires::{self as questionnaire_store, translations};
use crate::db::reports::{self as report_store, ReportCursor, ReportFilter};
use crate::db::{Db, DbError};
use crate::ids::{LocationId, OrgId, QuestionnaireId, UserId};
use crate::locations::model::Location;
use crate::questionnaires::language;
use crate::questionnaires::model::{QuestionType, QuestionnaireContent, Tier};
use crate::reports::model::{Report, ReportStatus};
use crate::reports::scoring::MileLevel;

/// The key of the free-text question whose answer is the visit's highlights.
pub const HIGHLIGHTS_QUESTION: &str = "highlights";

/// A second-tier behaviour the visit met.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    pub question: String,
    /// The question in the reader's language (the best the version has).
    pub text: String,
    /// The shopper's comment on it, if any.
    pub comment: Option<String>,
}

/// One moment worth celebrating.
#[derive(Debug, Clone)]
pub struct Moment {
    pub report: Report,
    pub location: Location,
    pub behaviours: Vec<Behaviour>,
    pub highlights: Option<String>,
    /// Staff by first name and role, only when the organization allows names.
    pub staff: Vec<(String, Option<String>)>,
}

/// What a released second-mile visit met: the second-tier questions that earned their
/// points (bonus questions: any points), with the shopper's comments, and the highlights
/// text where the questionnaire has that question.
pub fn moment_of(
    report: &Report,
    content: &QuestionnaireContent,
) -> (Vec<Behaviour>, Option<String>) {
    let answers = &report.document.submission.answers;
    let comment_of = |key: &str| {
        answers
            .iter()
            .find(|a| a.question == key)
            .and_then(|a| a.comment.clone())
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
    };
    let mut behaviours = Vec::new();
    for (_, question) in content.questions() {
        if question.tier != Some(Tier::Second) {
            continue;
        }
        let Some(score) = report
            .document
            .score
            .questions
            .iter()
            .find(|s| s.key == question.key)
        else {
            continue;
        };
        let met = score.counted
            && score.earned > 0.0
            && (question.bonus || score.earned + 1e-9 >= score.possible);
        if met {
            behaviours.push(Behaviour {
                question: question.key.clone(),
                text: question.text.clone(),
                comment: comment_of(&question.key),
            });
        }
    }
    let highlights = content
        .questions()
        .any(|(_, q)| q.key == HIGHLIGHTS_QUESTION && q.kind == QuestionType::Text)
        .then(|| {
            answers
                .iter()
                .find(|a| a.question == HIGHLIGHTS_QUESTION)
                .and_then(|a| a.value.as_ref())
                .and_then(|v| v.as_str())
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        })
        .flatten();
    (behaviours, highlights)
}

/// Which visits the feed shows.
#[derive(Debug, Clone, Default)]
pub struct RecognitionFilter {
    pub location: Option<LocationId>,
    pub region: Option<String>,
    /// Only this manager's locations.
    pub manager: Option<UserId>,
    /// The reader's languages, most wanted first: the behaviours' texts are in the best of
    /// them each version has.
    pub languages: Vec<String>,
}

/// A page of moments: released second-mile visits in the range, newest first.
pub async fn moments(
    db: &Db,
    org: OrgId,
    filter: RecognitionFilter,
    range: Range,
    after: Option<ReportCursor>,
    limit: i64,
) -> Result<Vec<Moment>, AggregateError> {
    db.run(move |conn| {
        let names = crate::db::settings::organization(conn, org)?.recognition_names;
        let reports = report_store::list(
            conn,
            org,
            &ReportFilter {
                location: filter.location,
                region: filter.region.clone(),
                statuses: vec![ReportStatus::Approved],
                mile_level: Some(MileLevel::Second),
                questionnaire_key: range.questionnaire_key.clone(),
                visit_from: Some(range.from),
                visit_to: Some(range.to),
                manager: filter.manager,
                ..ReportFilter::default()
            },
            after.as_ref(),
            true,
            limit,
        )?;
        let mut contents: HashMap<QuestionnaireId, Option<QuestionnaireContent>> = HashMap::new();
        let mut places: HashMap<LocationId, Option<Location>> = HashMap::new();
        let mut out = Vec::with_capacity(reports.len());
        for report in reports {
            let content = match contents.entry(report.questionnaire_id) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let id = report.questionnaire_id;
                    let content = match questionnaire_store::find(conn, org, id)? {
                        Some(q) if !filter.languages.is_empty() => {
                            let stored = translations::list(conn, org, id)?;
                            let given = translations::given(&stored);
                            Some(language::in_best(q.content, given, &filter.languages).0)
                        }
                        found => found.map(|q| q.content),
                    };
                    e.insert(content)
                }
            };
            let location = match places.entry(report.location_id) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(location_store::find(conn, org, report.location_id)?),
            };
            let (Some(content), Some(location)) = (content.as_ref(), location.as_ref()) else {
                continue;
            };
            let (behaviours, highlights) = moment_of(&report, content);
            let staff = if names {
                report
                    .document
                    .submission
                    .staff_observed
                    .iter()
                    .filter_map(|s| {
                        let name = s.first_name.as_deref()?.trim();
                        Some((name.to_string(), s.role.clone()))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            out.push(Moment {
                location: location.clone(),
                behaviours,
                highlights,
                staff,
                report,
            });
        }
        Ok::<_, DbError>(out)
    })
    .await
    .map_err(AggregateError::from)
}
