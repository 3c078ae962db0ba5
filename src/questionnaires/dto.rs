//! Request and response bodies of the questionnaire endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Questionnaire, QuestionnaireContent, Section, Status};
use crate::ids::QuestionnaireId;

/// A new questionnaire: version 1, as a draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "key": "store-visit",
    "title": "Store visit",
    "first_mile_pass": 80,
    "second_mile_pass": 50,
    "sections": [{
        "key": "arrival",
        "title": "Arrival and greeting",
        "weight": 2,
        "questions": [
            {"key": "greeted", "text": "Were you greeted within a minute of entering?", "type": "yes_no", "tier": "first", "critical": true},
            {"key": "on_phone", "text": "Was the employee busy on the phone while you waited?", "type": "yes_no", "expected": false, "tier": "first"},
            {"key": "had_issue", "text": "Did you raise an issue?", "type": "single_choice", "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]},
            {"key": "protocol", "text": "Was the issue handled calmly?", "type": "yes_no", "tier": "first", "show_if": {"question": "had_issue", "equals": ["yes"]}},
            {"key": "remembered_name", "text": "Did the employee remember your name?", "type": "yes_no", "tier": "second"}
        ]
    }]
}))]
pub struct CreateQuestionnaireRequest {
    /// Unique in the organization; later versions share it.
    #[schema(
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9_-]*$",
        example = "store-visit"
    )]
    pub key: String,
    #[schema(max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    /// Default 80.
    #[schema(minimum = 0, maximum = 100)]
    pub first_mile_pass: Option<u8>,
    /// Default 50.
    #[schema(minimum = 0, maximum = 100)]
    pub second_mile_pass: Option<u8>,
    #[schema(max_items = 50)]
    pub sections: Vec<Section>,
    /// The language the texts are written in, a BCP 47 tag (default `en`).
    #[schema(max_length = 35, example = "en")]
    pub source_language: Option<String>,
}

/// A language tag in its usual case when it is one; as given otherwise (the content's check
/// then names it).
fn tag_as_given(tag: String) -> String {
    super::language::canonical_tag(&tag).unwrap_or(tag)
}

impl CreateQuestionnaireRequest {
    pub fn content(self) -> (String, QuestionnaireContent) {
        (
            self.key,
            QuestionnaireContent {
                title: self.title,
                description: self.description,
                first_mile_pass: self.first_mile_pass.unwrap_or(80),
                second_mile_pass: self.second_mile_pass.unwrap_or(50),
                sections: self.sections,
                source_language: self
                    .source_language
                    .map_or_else(super::model::default_source_language, tag_as_given),
            },
        )
    }
}

/// Changes to a draft; absent fields stay. `sections` replaces all sections.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Store visit (2027)", "second_mile_pass": 60}))]
pub struct UpdateQuestionnaireRequest {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[schema(minimum = 0, maximum = 100)]
    pub first_mile_pass: Option<u8>,
    #[schema(minimum = 0, maximum = 100)]
    pub second_mile_pass: Option<u8>,
    #[schema(max_items = 50)]
    pub sections: Option<Vec<Section>>,
    /// The language the texts are written in, a BCP 47 tag.
    #[schema(max_length = 35)]
    pub source_language: Option<String>,
}

impl UpdateQuestionnaireRequest {
    pub fn apply(self, content: &mut QuestionnaireContent) {
        if let Some(title) = self.title {
            content.title = title;
        }
        if let Some(description) = self.description {
            content.description = description;
        }
        if let Some(p) = self.first_mile_pass {
            content.first_mile_pass = p;
        }
        if let Some(p) = self.second_mile_pass {
            content.second_mile_pass = p;
        }
        if let Some(sections) = self.sections {
            content.sections = sections;
        }
        if let Some(language) = self.source_language {
            content.source_language = tag_as_given(language);
        }
    }
}

/// A questionnaire version with all its sections and questions. (The content's fields are
/// spelled out rather than flattened: a flattened closed schema would make the document
/// describe an object no response can be.)
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QuestionnaireResponse {
    pub id: QuestionnaireId,
    pub key: String,
    pub version: i32,
    pub status: Status,
    pub title: String,
    pub description: String,
    /// First-tier score (percent) a visit needs to leave the zero mile.
    #[schema(minimum = 0, maximum = 100)]
    pub first_mile_pass: u8,
    /// Second-tier score (percent) that makes a visit second mile.
    #[schema(minimum = 0, maximum = 100)]
    pub second_mile_pass: u8,
    pub sections: Vec<Section>,
    /// The language its texts are written in (BCP 47).
    #[schema(example = "en")]
    pub source_language: String,
    /// The language of the texts in this answer: the source's or a translation's (also in
    /// `Content-Language`).
    #[schema(example = "de")]
    pub language: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<Questionnaire> for QuestionnaireResponse {
    fn from(q: Questionnaire) -> Self {
        QuestionnaireResponse {
            id: q.id,
            key: q.key,
            version: q.version,
            status: q.status,
            title: q.content.title,
            description: q.content.description,
            first_mile_pass: q.content.first_mile_pass,
            second_mile_pass: q.content.second_mile_pass,
            sections: q.content.sections,
            language: q.content.source_language.clone(),
            source_language: q.content.source_language,
            created_at: q.created_at,
            updated_at: q.updated_at,
            published_at: q.published_at,
            retired_at: q.retired_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuestionnairesQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
    /// Only versions of this questionnaire.
    pub key: Option<String>,
    /// Only versions in this status (non-admins see published and retired versions only).
    pub status: Option<Status>,
}

/// The language to read a version in.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LanguageQuery {
    /// A BCP 47 tag; the version's translation into it (or into a shorter form of it) wins
    /// over the profile and `Accept-Language`; the source when there is none.
    #[param(max_length = 35, example = "de")]
    pub language: Option<String>,
}
