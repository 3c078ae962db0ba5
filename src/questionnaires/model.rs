//! Questionnaire versions: sections holding questions. The structural rules a version must
//! satisfy before it can be stored are in `rules`. Pure: no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{OrgId, QuestionnaireId};

pub const MAX_SECTIONS: usize = 50;
pub const MAX_QUESTIONS: usize = 500;
pub const MAX_OPTIONS: usize = 50;
pub const MAX_TEXT_LENGTH: u32 = 20_000;

fn default_true() -> bool {
    true
}

fn default_weight() -> f64 {
    1.0
}

fn default_first_mile_pass() -> u8 {
    80
}

fn default_second_mile_pass() -> u8 {
    50
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// `true` or `false`; earns its weight when the answer equals `expected` (default `true`).
    YesNo,
    /// An integer from `min` to `max`; earns its weight in proportion.
    Scale,
    /// One option value; earns its weight times the option's points over the best option's
    /// (a question whose options are all worth 0 is informational and not scored).
    SingleChoice,
    /// Several option values; earns its weight times the chosen points over all positive points.
    MultiChoice,
    /// A number within optional `min`/`max`; scored only with a `target` (passes at or above it).
    Number,
    /// Seconds (e.g. waiting time); passes at or under `target`.
    DurationSeconds,
    /// Free text up to `max_length` characters; never scored.
    Text,
    /// A reference to an uploaded photo; never scored.
    Photo,
}

impl QuestionType {
    /// Types that can earn points (a `number` question also needs a `target`).
    pub fn can_score(self) -> bool {
        !matches!(self, QuestionType::Text | QuestionType::Photo)
    }

    pub fn can_condition(self) -> bool {
        matches!(
            self,
            QuestionType::YesNo
                | QuestionType::Scale
                | QuestionType::SingleChoice
                | QuestionType::MultiChoice
        )
    }
}

/// Which service level a scored question measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Baseline behaviour: the expected standard.
    First,
    /// Beyond expectations.
    Second,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// Stable value sent in answers.
    #[schema(max_length = 100)]
    pub value: String,
    #[schema(max_length = 200)]
    pub label: String,
    /// Points of this option (0 or more).
    #[serde(default)]
    pub points: f64,
}

/// Shows a question only when an earlier question was answered with one of `equals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowIf {
    /// Key of an earlier question (`yes_no`, `scale`, `single_choice` or `multi_choice`).
    pub question: String,
    /// The answer values that show this question (any of them; for `multi_choice`, any chosen).
    #[schema(value_type = Vec<ConditionValue>, min_items = 1)]
    pub equals: Vec<serde_json::Value>,
}

/// The schema of a value a condition compares an answer with: a boolean (`yes_no`), a
/// number (`scale`) or an option value (`single_choice`, `multi_choice`).
pub struct ConditionValue;

impl utoipa::PartialSchema for ConditionValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .description(Some(
                "A boolean (`yes_no`), a number (`scale`) or an option value (`single_choice`, \
                 `multi_choice`)",
            ))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .into()
    }
}

impl ToSchema for ConditionValue {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Unique within the version; answers refer to it. Lower-case letters, digits, `_`, `-`.
    #[schema(
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9_-]*$",
        example = "greeted"
    )]
    pub key: String,
    #[schema(max_length = 1000)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub help: Option<String>,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// Must be answered when visible (unless answered N/A where allowed). Default `true`.
    #[serde(default = "default_true")]
    pub required: bool,
    /// Relative weight of the question's points, > 0. Default 1.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// `first`, `second`, or absent (counts in the overall score only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// Failing it (earning none of its points) makes the visit zero mile. First tier only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub critical: bool,
    /// The shopper may answer "not applicable"; the question then leaves the score.
    #[serde(default, skip_serializing_if = "is_false")]
    pub na_allowed: bool,
    /// Earned points count, possible points do not: it can only raise a score.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bonus: bool,
    /// `yes_no` only: the answer that earns the points (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<bool>,
    /// `scale` (required, integer) and `number` (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// `scale` (required, integer) and `number` (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `duration_seconds` (required: passes at or under it) and `number` (optional: passes at or above it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// `text` only (default 2000, at most 20000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// `single_choice` and `multi_choice` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 50)]
    pub options: Option<Vec<ChoiceOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
    /// `photo` only: the photo may show staff, so it is personal data like the staff
    /// observed: only admins, reviewers and its shopper may download it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub shows_staff: bool,
}

impl Question {
    /// Whether this question earns points. A choice question whose options are all worth
    /// 0 only informs (e.g. "were you accompanied?") and can drive `show_if`.
    pub fn is_scored(&self) -> bool {
        match self.kind {
            QuestionType::Text | QuestionType::Photo => false,
            QuestionType::Number => self.target.is_some(),
            QuestionType::SingleChoice | QuestionType::MultiChoice => self
                .options
                .as_ref()
                .is_some_and(|options| options.iter().any(|o| o.points > 0.0)),
            _ => true,
        }
    }

    pub fn text_limit(&self) -> u32 {
        self.max_length.unwrap_or(2000)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    #[schema(
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9_-]*$",
        example = "welcome"
    )]
    pub key: String,
    #[schema(max_length = 200)]
    pub title: String,
    /// Weight of the section in the overall score, > 0. Default 1.
    #[serde(default = "default_weight")]
    pub weight: f64,
    #[schema(max_items = 500)]
    pub questions: Vec<Question>,
}

/// The content of a questionnaire version: what an admin writes and a shopper answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireContent {
    #[schema(max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    /// First-tier score (percent) a visit needs to leave the zero mile. Default 80.
    #[serde(default = "default_first_mile_pass")]
    #[schema(minimum = 0, maximum = 100)]
    pub first_mile_pass: u8,
    /// Second-tier score (percent) that makes a visit second mile. Default 50.
    #[serde(default = "default_second_mile_pass")]
    #[schema(minimum = 0, maximum = 100)]
    pub second_mile_pass: u8,
    #[schema(max_items = 50)]
    pub sections: Vec<Section>,
    /// The language its texts are written in (a BCP 47 tag). Default `en`.
    #[serde(default = "default_source_language")]
    #[schema(max_length = 35, example = "en")]
    pub source_language: String,
}

/// The language of a version whose admin named none.
pub const DEFAULT_SOURCE_LANGUAGE: &str = "en";

pub fn default_source_language() -> String {
    DEFAULT_SOURCE_LANGUAGE.to_string()
}

impl QuestionnaireContent {
    /// Every question in document order with its section index.
    pub fn questions(&self) -> impl Iterator<Item = (usize, &Question)> {
        self.sections
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.questions.iter().map(move |q| (i, q)))
    }

    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions().map(|(_, q)| q).find(|q| q.key == key)
    }
}

/// Where a version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = QuestionnaireStatus)]
pub enum Status {
    /// Being written; admins may change it.
    Draft,
    /// Immutable; shoppers answer it.
    Published,
    /// No longer answered; still readable with the reports that used it.
    Retired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
            Status::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Status::Draft, Status::Published, Status::Retired]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// One version of a questionnaire.
#[derive(Debug, Clone, PartialEq)]
pub struct Questionnaire {
    pub id: QuestionnaireId,
    pub org_id: OrgId,
    pub key: String,
    pub version: i32,
    pub status: Status,
    pub content: QuestionnaireContent,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    pub retired_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A version without its sections, for lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuestionnaireSummary {
    pub id: QuestionnaireId,
    pub key: String,
    pub version: i32,
    pub status: Status,
    pub title: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    pub retired_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A key: 1 to 64 characters of `a-z 0-9 _ -`, starting with a letter or digit.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The example questionnaire shipped in `examples/` (a request body: key and content).
    pub fn example() -> QuestionnaireContent {
        serde_json::from_str::<crate::questionnaires::dto::CreateQuestionnaireRequest>(
            include_str!("../../examples/questionnaire.json"),
        )
        .expect("the example parses")
        .content()
        .1
    }
}
