//! Languages of a questionnaire version: the texts a translation may give (each named by a
//! key such as `questions.greeted.text`), the check of a translation against the version,
//! the version shown in one language, and the choice of a language for a reader (RFC 4647
//! lookup). Answers refer to question keys and option values, never to texts, so every
//! language of a version scores and aggregates as one. No HTTP and no database here.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::header::LanguageTag;

use super::model::QuestionnaireContent;
use crate::validation::Violation;

/// Translations one version may have.
pub const MAX_TRANSLATIONS: usize = 50;
/// The longest language tag taken (RFC 5646 advises room for 35 characters).
pub const MAX_TAG_CHARS: usize = 35;

/// A language tag in its canonical form (`de`, `pt-BR`, `zh-Hant-TW`), or why it is not one.
/// Ranges (`*`) and private-use tags are refused: a translation is for a language.
pub fn canonical_tag(input: &str) -> Result<String, String> {
    if input.is_empty() || input.chars().count() > MAX_TAG_CHARS {
        return Err(format!(
            "a BCP 47 language tag of 1 to {MAX_TAG_CHARS} characters, such as de or pt-BR"
        ));
    }
    let tag = LanguageTag::parse(input)
        .map_err(|e| format!("`{input}` is not a BCP 47 language tag ({e})"))?;
    tag.validate()
        .map_err(|e| format!("`{input}` is not a valid language tag ({e})"))?;
    // A private-use tag (`x-…`) has no language; a grandfathered one (`i-…`) a single letter.
    if input.split('-').next().is_none_or(|first| first.len() < 2) {
        return Err(format!(
            "`{input}` is a private-use or grandfathered tag; use a language such as de or ja"
        ));
    }
    Ok(case_folded(tag.as_str()))
}

/// The conventional case of a tag's subtags: language lower, script title, region upper.
fn case_folded(tag: &str) -> String {
    let mut out = Vec::new();
    for (i, part) in tag.split('-').enumerate() {
        let all_alpha = part.chars().all(|c| c.is_ascii_alphabetic());
        let folded = if i > 0 && part.len() == 4 && all_alpha {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first
                .into_iter()
                .chain(chars.map(|c| c.to_ascii_lowercase()))
                .collect()
        } else if i > 0
            && ((part.len() == 2 && all_alpha)
                || (part.len() == 3 && part.chars().all(|c| c.is_ascii_digit())))
        {
            part.to_ascii_uppercase()
        } else {
            part.to_ascii_lowercase()
        };
        out.push(folded);
    }
    out.join("-")
}

/// One text of a version a translation may give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub key: String,
    /// The text in the source language.
    pub source: String,
    /// The longest the text may be (the source's own limit).
    pub max_chars: usize,
}

/// Every translatable text of a version, in document order: `title`, `description` (when
/// there is one), `sections.{key}.title`, `questions.{key}.text`, `questions.{key}.help`
/// (when there is help), `questions.{key}.options.{value}.label`.
pub fn texts(content: &QuestionnaireContent) -> Vec<Text> {
    let mut out = Vec::new();
    let mut push = |key: String, source: &str, max_chars: usize| {
        out.push(Text {
            key,
            source: source.to_string(),
            max_chars,
        })
    };
    push("title".into(), &content.title, 200);
    if !content.description.is_empty() {
        push("description".into(), &content.description, 5000);
    }
    for section in &content.sections {
        push(
            format!("sections.{}.title", section.key),
            &section.title,
            200,
        );
        for q in &section.questions {
            push(format!("questions.{}.text", q.key), &q.text, 1000);
            if let Some(help) = q.help.as_deref().filter(|h| !h.is_empty()) {
                push(format!("questions.{}.help", q.key), help, 2000);
            }
            for option in q.options.iter().flatten() {
                push(
                    format!("questions.{}.options.{}.label", q.key, option.value),
                    &option.label,
                    200,
                );
            }
        }
    }
    out
}

/// The `{name}` placeholders of a text.
pub fn placeholders(text: &str) -> BTreeSet<&str> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_') =>
            {
                found.insert(&rest[open..open + close + 2]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

/// Where a text of a translation is, as a JSON Pointer into a request's body.
pub fn text_pointer(key: &str) -> String {
    format!("/texts/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// How much of a version a translation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub translated: usize,
    pub total: usize,
    /// Keys of the texts it leaves to the source language, in document order.
    pub missing: Vec<String>,
}

/// Checks `given` (text key to translated text) against the version: every key must name
/// a text of it, no text may be empty or longer than its source's limit, and every
/// placeholder of the source must be kept. Every violation is listed; texts it leaves out
/// are not violations (they fall back to the source) and are counted in the coverage.
pub fn check(
    content: &QuestionnaireContent,
    given: &BTreeMap<String, String>,
) -> Result<Coverage, Vec<Violation>> {
    let all = texts(content);
    let known: BTreeMap<&str, &Text> = all.iter().map(|t| (t.key.as_str(), t)).collect();
    let mut violations = Vec::new();
    for (key, text) in given {
        let Some(source) = known.get(key.as_str()) else {
            violations.push(Violation::new(
                text_pointer(key),
                "unknown_key",
                "this version has no such text (see GET .../translations/{language} for the keys)",
            ));
            continue;
        };
        if text.trim().is_empty() {
            violations.push(Violation::new(
                text_pointer(key),
                "empty",
                "a translation may not be empty; leave the key out to show the source",
            ));
        } else if text.chars().count() > source.max_chars {
            violations.push(Violation::new(
                text_pointer(key),
                "too_long",
                format!("at most {} characters", source.max_chars),
            ));
        }
        let kept = placeholders(text);
        let lost: Vec<&str> = placeholders(&source.source)
            .into_iter()
            .filter(|p| !kept.contains(p))
            .collect();
        if !lost.is_empty() {
            violations.push(Violation::new(
                text_pointer(key),
                "missing_placeholder",
                format!(
                    "the source's {} must stay in the translation",
                    lost.join(", ")
                ),
            ));
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(coverage(content, given))
}

/// How much of the version `given` covers (keys the version does not have are not counted).
pub fn coverage(content: &QuestionnaireContent, given: &BTreeMap<String, String>) -> Coverage {
    let all = texts(content);
    let missing: Vec<String> = all
        .iter()
        .filter(|t| !given.contains_key(&t.key))
        .map(|t| t.key.clone())
        .collect();
    Coverage {
        translated: all.len() - missing.len(),
        total: all.len(),
        missing,
    }
}

/// The version's content in a translation: each text it gives replaces the source's; the
/// rest stay as written.
pub fn translated(
    mut content: QuestionnaireContent,
    given: &BTreeMap<String, String>,
) -> QuestionnaireContent {
    let text = |key: String| given.get(&key).cloned();
    if let Some(t) = text("title".into()) {
        content.title = t;
    }
    if let Some(t) = text("description".into()) {
        content.description = t;
    }
    for section in &mut content.sections {
        if let Some(t) = text(format!("sections.{}.title", section.key)) {
            section.title = t;
        }
        for q in &mut section.questions {
            if let Some(t) = text(format!("questions.{}.text", q.key)) {
                q.text = t;
            }
            if let Some(t) = text(format!("questions.{}.help", q.key)) {
                q.help = Some(t);
            }
            let key = q.key.clone();
            for option in q.options.iter_mut().flatten() {
                if let Some(t) = text(format!("questions.{key}.options.{}.label", option.value)) {
                    option.label = t;
                }
            }
        }
    }
    content
}

/// `content` in the best of its languages for a reader who wants `wanted` (most wanted
/// first): the source, or one of `translations` (language, texts) found by [`lookup`].
/// Answers the content and the language chosen.
pub fn in_best<'a, T>(
    content: QuestionnaireContent,
    translations: T,
    wanted: &[String],
) -> (QuestionnaireContent, String)
where
    T: IntoIterator<Item = (&'a str, &'a BTreeMap<String, String>)>,
    T::IntoIter: Clone,
{
    let translations = translations.into_iter();
    let available: Vec<String> = std::iter::once(content.source_language.clone())
        .chain(
            translations
                .clone()
                .map(|(language, _)| language.to_string()),
        )
        .collect();
    let chosen = lookup(&available, wanted)
        .unwrap_or(&content.source_language)
        .to_string();
    match translations
        .into_iter()
        .find(|(language, _)| *language == chosen)
    {
        Some((_, texts)) => (translated(content, texts), chosen),
        None => (content, chosen),
    }
}

/// RFC 4647 lookup: for each range the reader asked for, most wanted first, the available
/// tag equal to it or, dropping its last subtag (and a single-letter one left before it)
/// each time, to a shorter form of it (`de-AT` finds `de`); `None` when nothing matches.
pub fn lookup<'a>(available: &'a [String], wanted: &[String]) -> Option<&'a str> {
    for range in wanted {
        let mut range = range.as_str();
        while !range.is_empty() && range != "*" {
            if let Some(found) = available.iter().find(|a| a.eq_ignore_ascii_case(range)) {
                return Some(found);
            }
            range = match range.rfind('-') {
                Some(at) => {
                    let shorter = &range[..at];
                    match shorter.rfind('-') {
                        Some(before) if at - before == 2 => &shorter[..before],
                        _ => shorter,
                    }
                }
                None => "",
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_are_checked_and_given_their_usual_case() {
        assert_eq!(canonical_tag("DE").unwrap(), "de");
        assert_eq!(canonical_tag("pt-br").unwrap(), "pt-BR");
        assert_eq!(canonical_tag("zh-hant-tw").unwrap(), "zh-Hant-TW");
        assert_eq!(canonical_tag("es-419").unwrap(), "es-419");
        for bad in [
            "",
            "*",
            "x-private",
            "de_DE",
            "english!",
            "a-very-long-tag-that-goes-on-and-on-and-on",
        ] {
            assert!(canonical_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lookup_falls_back_from_region_to_language_then_to_nothing() {
        let available = tags(&["en", "de", "ja", "pt-BR", "zh-Hant"]);
        assert_eq!(lookup(&available, &tags(&["de-AT"])), Some("de"));
        assert_eq!(lookup(&available, &tags(&["ja"])), Some("ja"));
        assert_eq!(lookup(&available, &tags(&["pt"])), None);
        assert_eq!(lookup(&available, &tags(&["pt-BR-x-foo"])), Some("pt-BR"));
        assert_eq!(lookup(&available, &tags(&["zh-Hant-TW"])), Some("zh-Hant"));
        assert_eq!(lookup(&available, &tags(&["fr", "de"])), Some("de"));
        assert_eq!(lookup(&available, &tags(&["*"])), None);
        assert_eq!(lookup(&available, &tags(&["fr"])), None);
    }

    #[test]
    fn placeholders_are_names_in_braces() {
        let found: Vec<&str> = placeholders("Hello {name}, {0} and {not valid} or {")
            .into_iter()
            .collect();
        assert_eq!(found, ["{0}", "{name}"]);
    }
}
