//! The JSON documents kept in the database (a report's submission, score and flags; a
//! questionnaire version's content) have types of their own, apart from the API's request
//! and response types: renaming or removing an API field must never make an old row
//! unreadable.
//!
//! Every document carries a `format` number (documents written before formats existed have
//! none and are format 1). Reading is tolerant: unknown fields are ignored and fields added
//! later have defaults. A document of a format newer than this binary knows, or one that no
//! longer parses, is corrupt data: an error that is logged, never a guess.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    AssignmentId, AttachmentId, ClientId, LocationId, QuestionnaireId, ReportId, UserId,
};
use crate::questionnaires::model as q;
use crate::reports::model as r;
use crate::reports::scoring as s;

mod message;
mod plausible;
pub use message::{message_from_json, message_to_json};
use plausible::Plausible;

/// The format of report documents this version writes.
pub const REPORT_FORMAT: u32 = 1;
/// The format of questionnaire content this version writes.
pub const QUESTIONNAIRE_FORMAT: u32 = 1;

/// Why a stored document cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    #[error("stored {kind} document has format {found}; this version reads up to {known}")]
    TooNew {
        kind: &'static str,
        found: u32,
        known: u32,
    },
    #[error("stored {kind} document does not parse: {source}")]
    Parse {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("stored {kind} document is invalid: {why}")]
    Invalid { kind: &'static str, why: String },
}

// The defaults of stored documents are their own, written down here once and never
// changed: a document stored without a field meant these values when it was written, whatever
// the API's defaults become later.

fn format_1() -> u32 {
    1
}

fn yes() -> bool {
    true
}

fn one() -> f64 {
    1.0
}

fn first_mile_pass() -> u8 {
    80
}

fn second_mile_pass() -> u8 {
    50
}

/// Only the format number of a document, read first: a newer format may have changed
/// anything else.
#[derive(Deserialize)]
struct Header {
    #[serde(default = "format_1")]
    format: u32,
}

/// Parses a stored document of `kind` after checking that its format is at most `known`.
fn parse<'a, T: Deserialize<'a>>(
    kind: &'static str,
    known: u32,
    json: &'a str,
) -> Result<T, StoredError> {
    let err = |source| StoredError::Parse { kind, source };
    let header: Header = serde_json::from_str(json).map_err(err)?;
    if header.format > known {
        return Err(StoredError::TooNew {
            kind,
            found: header.format,
            known,
        });
    }
    serde_json::from_str(json).map_err(err)
}

fn write<T: Serialize>(doc: &T) -> String {
    // Serializing these plain structs (strings, numbers, maps with string keys) cannot fail.
    serde_json::to_string(doc).unwrap_or_default()
}

// ------------------------------------------------------------------------ reports

#[derive(Serialize, Deserialize)]
struct ReportDoc {
    #[serde(default = "format_1")]
    format: u32,
    submission: Submission,
    score: Score,
    #[serde(default)]
    flags: Vec<Flag>,
    /// Absent in documents written before plausibility was assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plausibility: Option<Plausible>,
    /// Absent in documents written before attachments existed: their files are then the
    /// answers whose value is a UUID (the only way such a report could name a file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attachments: Option<Vec<File>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    submitted_by_client: Option<uuid::Uuid>,
    submitted_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct File {
    id: uuid::Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    question: Option<String>,
    #[serde(default)]
    shows_staff: bool,
}

#[derive(Serialize, Deserialize)]
struct Submission {
    id: uuid::Uuid,
    location_id: uuid::Uuid,
    questionnaire_id: uuid::Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shopper_id: Option<uuid::Uuid>,
    visit: Visit,
    #[serde(default)]
    answers: Vec<Answer>,
    #[serde(default)]
    narrative: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check_in: Option<CheckIn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    staff_observed: Vec<Staff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client: Option<ClientInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receipt: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assignment_id: Option<uuid::Uuid>,
    /// Added with translations; absent before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Visit {
    started_at: DateTime<FixedOffset>,
    ended_at: DateTime<FixedOffset>,
}

#[derive(Serialize, Deserialize)]
struct Answer {
    question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    na: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CheckIn {
    lat: f64,
    lon: f64,
    #[serde(default)]
    accuracy_m: Option<f64>,
    at: DateTime<FixedOffset>,
}

#[derive(Serialize, Deserialize)]
struct Staff {
    description: String,
    #[serde(default)]
    role: Option<String>,
    /// Added with the recognition feed; absent in older documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ClientInfo {
    app: String,
    version: String,
    #[serde(default)]
    device_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Flag {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mile {
    Zero,
    First,
    Second,
}

#[derive(Serialize, Deserialize)]
struct Score {
    overall: Option<f64>,
    #[serde(default)]
    first_tier: Option<f64>,
    #[serde(default)]
    second_tier: Option<f64>,
    mile_level: Mile,
    #[serde(default)]
    critical_failures: Vec<String>,
    #[serde(default)]
    sections: Vec<SectionScore>,
    #[serde(default)]
    questions: Vec<QuestionScore>,
}

#[derive(Serialize, Deserialize)]
struct SectionScore {
    key: String,
    earned: f64,
    possible: f64,
    score: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct QuestionScore {
    key: String,
    counted: bool,
    earned: f64,
    possible: f64,
}

impl From<&r::ReportDocument> for ReportDoc {
    fn from(d: &r::ReportDocument) -> Self {
        let sub = &d.submission;
        ReportDoc {
            format: REPORT_FORMAT,
            submission: Submission {
                id: sub.id.0,
                location_id: sub.location_id.0,
                questionnaire_id: sub.questionnaire_id.0,
                shopper_id: sub.shopper_id.map(|u| u.0),
                visit: Visit {
                    started_at: sub.visit.started_at,
                    ended_at: sub.visit.ended_at,
                },
                answers: sub
                    .answers
                    .iter()
                    .map(|a| Answer {
                        question: a.question.clone(),
                        value: a.value.clone(),
                        na: a.na,
                        comment: a.comment.clone(),
                    })
                    .collect(),
                narrative: sub.narrative.clone(),
                check_in: sub.check_in.as_ref().map(|c| CheckIn {
                    lat: c.lat,
                    lon: c.lon,
                    accuracy_m: c.accuracy_m,
                    at: c.at,
                }),
                staff_observed: sub
                    .staff_observed
                    .iter()
                    .map(|st| Staff {
                        description: st.description.clone(),
                        role: st.role.clone(),
                        first_name: st.first_name.clone(),
                    })
                    .collect(),
                client: sub.client.as_ref().map(|c| ClientInfo {
                    app: c.app.clone(),
                    version: c.version.clone(),
                    device_id: c.device_id.clone(),
                }),
                receipt: sub.receipt.map(|r| r.0),
                assignment_id: sub.assignment_id.map(|a| a.0),
                language: sub.language.clone(),
            },
            score: Score {
                overall: d.score.overall,
                first_tier: d.score.first_tier,
                second_tier: d.score.second_tier,
                mile_level: match d.score.mile_level {
                    s::MileLevel::Zero => Mile::Zero,
                    s::MileLevel::First => Mile::First,
                    s::MileLevel::Second => Mile::Second,
                },
                critical_failures: d.score.critical_failures.clone(),
                sections: d
                    .score
                    .sections
                    .iter()
                    .map(|x| SectionScore {
                        key: x.key.clone(),
                        earned: x.earned,
                        possible: x.possible,
                        score: x.score,
                    })
                    .collect(),
                questions: d
                    .score
                    .questions
                    .iter()
                    .map(|x| QuestionScore {
                        key: x.key.clone(),
                        counted: x.counted,
                        earned: x.earned,
                        possible: x.possible,
                    })
                    .collect(),
            },
            flags: d
                .flags
                .iter()
                .map(|f| Flag {
                    code: f.code.as_str().to_string(),
                    message: f.message.clone(),
                })
                .collect(),
            plausibility: d.plausibility.as_ref().map(Plausible::from),
            attachments: Some(
                d.attachments
                    .iter()
                    .map(|f| File {
                        id: f.id.0,
                        question: f.question.clone(),
                        shows_staff: f.shows_staff,
                    })
                    .collect(),
            ),
            submitted_by_client: d.submitted_by_client.map(|c| c.0),
            submitted_at: d.submitted_at,
        }
    }
}

impl From<ReportDoc> for r::ReportDocument {
    fn from(d: ReportDoc) -> Self {
        let sub = d.submission;
        let files = d.attachments;
        let mut doc = r::ReportDocument {
            submission: r::ReportSubmission {
                id: ReportId(sub.id),
                location_id: LocationId(sub.location_id),
                questionnaire_id: QuestionnaireId(sub.questionnaire_id),
                shopper_id: sub.shopper_id.map(UserId),
                visit: r::Visit {
                    started_at: sub.visit.started_at,
                    ended_at: sub.visit.ended_at,
                },
                answers: sub
                    .answers
                    .into_iter()
                    .map(|a| s::Answer {
                        question: a.question,
                        value: a.value,
                        na: a.na,
                        comment: a.comment,
                    })
                    .collect(),
                narrative: sub.narrative,
                check_in: sub.check_in.map(|c| r::CheckIn {
                    lat: c.lat,
                    lon: c.lon,
                    accuracy_m: c.accuracy_m,
                    at: c.at,
                }),
                staff_observed: sub
                    .staff_observed
                    .into_iter()
                    .map(|st| r::StaffObserved {
                        description: st.description,
                        role: st.role,
                        first_name: st.first_name,
                    })
                    .collect(),
                client: sub.client.map(|c| r::ClientInfo {
                    app: c.app,
                    version: c.version,
                    device_id: c.device_id,
                }),
                receipt: sub.receipt.map(AttachmentId),
                assignment_id: sub.assignment_id.map(AssignmentId),
                language: sub.language,
            },
            score: s::Score {
                overall: d.score.overall,
                first_tier: d.score.first_tier,
                second_tier: d.score.second_tier,
                mile_level: match d.score.mile_level {
                    Mile::Zero => s::MileLevel::Zero,
                    Mile::First => s::MileLevel::First,
                    Mile::Second => s::MileLevel::Second,
                },
                critical_failures: d.score.critical_failures,
                sections: d
                    .score
                    .sections
                    .into_iter()
                    .map(|x| s::SectionScore {
                        key: x.key,
                        earned: x.earned,
                        possible: x.possible,
                        score: x.score,
                    })
                    .collect(),
                questions: d
                    .score
                    .questions
                    .into_iter()
                    .map(|x| s::QuestionScore {
                        key: x.key,
                        counted: x.counted,
                        earned: x.earned,
                        possible: x.possible,
                    })
                    .collect(),
            },
            // A flag this version does not know is left out: flags only inform reviewers.
            flags: d
                .flags
                .into_iter()
                .filter_map(|f| {
                    Some(r::Flag {
                        code: r::FlagCode::parse(&f.code)?,
                        message: f.message,
                    })
                })
                .collect(),
            plausibility: d.plausibility.map(Plausible::into_model),
            attachments: Vec::new(),
            submitted_by_client: d.submitted_by_client.map(ClientId),
            submitted_at: d.submitted_at,
        };
        doc.attachments = match files {
            Some(files) => files
                .into_iter()
                .map(|f| r::ExpectedFile {
                    id: AttachmentId(f.id),
                    question: f.question,
                    shows_staff: f.shows_staff,
                })
                .collect(),
            None => files_named_by_answers(&doc.submission),
        };
        doc
    }
}

/// The files of a document written before attachments existed: its answers whose value is
/// a UUID, each once.
fn files_named_by_answers(sub: &r::ReportSubmission) -> Vec<r::ExpectedFile> {
    let mut files: Vec<r::ExpectedFile> = Vec::new();
    for answer in &sub.answers {
        if let Some(id) = answer
            .value
            .as_ref()
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<AttachmentId>().ok())
            && !files.iter().any(|f| f.id == id)
        {
            files.push(r::ExpectedFile {
                id,
                question: Some(answer.question.clone()),
                shows_staff: false,
            });
        }
    }
    files
}

/// The stored form of a report document, in the current format.
pub fn report_to_json(doc: &r::ReportDocument) -> String {
    write(&ReportDoc::from(doc))
}

/// Reads a stored report document of any format this version knows.
pub fn report_from_json(json: &str) -> Result<r::ReportDocument, StoredError> {
    parse::<ReportDoc>("report", REPORT_FORMAT, json).map(Into::into)
}

// ------------------------------------------------------------------ questionnaires

#[derive(Serialize, Deserialize)]
struct Content {
    #[serde(default = "format_1")]
    format: u32,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "first_mile_pass")]
    first_mile_pass: u8,
    #[serde(default = "second_mile_pass")]
    second_mile_pass: u8,
    #[serde(default)]
    sections: Vec<Section>,
    /// Added with translations; versions stored before are in English.
    #[serde(default = "q::default_source_language")]
    source_language: String,
}

#[derive(Serialize, Deserialize)]
struct Section {
    key: String,
    title: String,
    #[serde(default = "one")]
    weight: f64,
    #[serde(default)]
    questions: Vec<Question>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    YesNo,
    Scale,
    SingleChoice,
    MultiChoice,
    Number,
    DurationSeconds,
    Text,
    Photo,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Tier {
    First,
    Second,
}

#[derive(Serialize, Deserialize)]
struct Question {
    key: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    help: Option<String>,
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(default = "yes")]
    required: bool,
    #[serde(default = "one")]
    weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tier: Option<Tier>,
    #[serde(default)]
    critical: bool,
    #[serde(default)]
    na_allowed: bool,
    #[serde(default)]
    bonus: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expected: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    options: Option<Vec<Choice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    show_if: Option<ShowIf>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    shows_staff: bool,
}

#[derive(Serialize, Deserialize)]
struct Choice {
    value: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    points: f64,
}

#[derive(Serialize, Deserialize)]
struct ShowIf {
    question: String,
    #[serde(default)]
    equals: Vec<serde_json::Value>,
}

impl From<&q::QuestionnaireContent> for Content {
    fn from(c: &q::QuestionnaireContent) -> Self {
        Content {
            format: QUESTIONNAIRE_FORMAT,
            title: c.title.clone(),
            description: c.description.clone(),
            first_mile_pass: c.first_mile_pass,
            second_mile_pass: c.second_mile_pass,
            sections: c
                .sections
                .iter()
                .map(|sec| Section {
                    key: sec.key.clone(),
                    title: sec.title.clone(),
                    weight: sec.weight,
                    questions: sec.questions.iter().map(Question::from).collect(),
                })
                .collect(),
            source_language: c.source_language.clone(),
        }
    }
}

impl From<&q::Question> for Question {
    fn from(x: &q::Question) -> Self {
        Question {
            key: x.key.clone(),
            text: x.text.clone(),
            help: x.help.clone(),
            kind: match x.kind {
                q::QuestionType::YesNo => Kind::YesNo,
                q::QuestionType::Scale => Kind::Scale,
                q::QuestionType::SingleChoice => Kind::SingleChoice,
                q::QuestionType::MultiChoice => Kind::MultiChoice,
                q::QuestionType::Number => Kind::Number,
                q::QuestionType::DurationSeconds => Kind::DurationSeconds,
                q::QuestionType::Text => Kind::Text,
                q::QuestionType::Photo => Kind::Photo,
            },
            required: x.required,
            weight: x.weight,
            tier: x.tier.map(|t| match t {
                q::Tier::First => Tier::First,
                q::Tier::Second => Tier::Second,
            }),
            critical: x.critical,
            na_allowed: x.na_allowed,
            bonus: x.bonus,
            shows_staff: x.shows_staff,
            expected: x.expected,
            min: x.min,
            max: x.max,
            target: x.target,
            max_length: x.max_length,
            options: x.options.as_ref().map(|options| {
                options
                    .iter()
                    .map(|o| Choice {
                        value: o.value.clone(),
                        label: o.label.clone(),
                        points: o.points,
                    })
                    .collect()
            }),
            show_if: x.show_if.as_ref().map(|c| ShowIf {
                question: c.question.clone(),
                equals: c.equals.clone(),
            }),
        }
    }
}

impl From<Question> for q::Question {
    fn from(x: Question) -> Self {
        q::Question {
            key: x.key,
            text: x.text,
            help: x.help,
            kind: match x.kind {
                Kind::YesNo => q::QuestionType::YesNo,
                Kind::Scale => q::QuestionType::Scale,
                Kind::SingleChoice => q::QuestionType::SingleChoice,
                Kind::MultiChoice => q::QuestionType::MultiChoice,
                Kind::Number => q::QuestionType::Number,
                Kind::DurationSeconds => q::QuestionType::DurationSeconds,
                Kind::Text => q::QuestionType::Text,
                Kind::Photo => q::QuestionType::Photo,
            },
            required: x.required,
            weight: x.weight,
            tier: x.tier.map(|t| match t {
                Tier::First => q::Tier::First,
                Tier::Second => q::Tier::Second,
            }),
            critical: x.critical,
            na_allowed: x.na_allowed,
            bonus: x.bonus,
            shows_staff: x.shows_staff,
            expected: x.expected,
            min: x.min,
            max: x.max,
            target: x.target,
            max_length: x.max_length,
            options: x.options.map(|options| {
                options
                    .into_iter()
                    .map(|o| q::ChoiceOption {
                        value: o.value,
                        label: o.label,
                        points: o.points,
                    })
                    .collect()
            }),
            show_if: x.show_if.map(|c| q::ShowIf {
                question: c.question,
                equals: c.equals,
            }),
        }
    }
}

impl From<Content> for q::QuestionnaireContent {
    fn from(c: Content) -> Self {
        q::QuestionnaireContent {
            title: c.title,
            description: c.description,
            first_mile_pass: c.first_mile_pass,
            second_mile_pass: c.second_mile_pass,
            sections: c
                .sections
                .into_iter()
                .map(|sec| q::Section {
                    key: sec.key,
                    title: sec.title,
                    weight: sec.weight,
                    questions: sec.questions.into_iter().map(q::Question::from).collect(),
                })
                .collect(),
            source_language: c.source_language,
        }
    }
}

/// The stored form of a questionnaire version's content, in the current format.
pub fn questionnaire_to_json(content: &q::QuestionnaireContent) -> String {
    write(&Content::from(content))
}

/// Reads stored questionnaire content of any format this version knows.
pub fn questionnaire_from_json(json: &str) -> Result<q::QuestionnaireContent, StoredError> {
    parse::<Content>("questionnaire", QUESTIONNAIRE_FORMAT, json).map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questionnaire_content_round_trips() {
        let content = crate::questionnaires::model::tests::example();
        let stored = questionnaire_to_json(&content);
        assert!(stored.contains("\"format\":1"), "{stored}");
        assert_eq!(questionnaire_from_json(&stored).unwrap(), content);
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_ones_defaulted() {
        let json = r#"{"title": "T", "added_later": {"x": 1},
            "sections": [{"key": "s", "title": "S", "questions": [
                {"key": "a", "text": "A?", "type": "yes_no", "colour": "red"}]}]}"#;
        let content = questionnaire_from_json(json).unwrap();
        assert_eq!(content.first_mile_pass, 80);
        assert_eq!(content.second_mile_pass, 50);
        let question = &content.sections[0].questions[0];
        assert!(question.required);
        assert_eq!(question.weight, 1.0);
        assert!(!question.critical);
    }

    #[test]
    fn a_newer_format_is_refused_not_guessed() {
        let err =
            questionnaire_from_json(r#"{"format": 2, "title": "T", "sections": []}"#).unwrap_err();
        assert!(matches!(err, StoredError::TooNew { found: 2, .. }), "{err}");
        let err = report_from_json(r#"{"format": 9}"#).unwrap_err();
        assert!(matches!(err, StoredError::TooNew { found: 9, .. }), "{err}");
        let err = report_from_json(r#"{"submission": 1}"#).unwrap_err();
        assert!(matches!(err, StoredError::Parse { .. }), "{err}");
    }
}
