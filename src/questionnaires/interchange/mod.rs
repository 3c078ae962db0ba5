//! A version's texts in the files translators work with: CSV (a row per text: key, source,
//! translation, longest length) and XLIFF 2.0 (a unit per text). Export writes every
//! translatable text of the version in document order, with the translation where there is
//! one; import reads a file back into a translation and lists every problem it finds, each
//! at its row or unit. An export imported unchanged gives the same translation, and its
//! export the same bytes. Pure: no HTTP and no database here.

mod csv;
mod xliff;

use std::collections::{BTreeMap, HashMap};

use super::language::{self, Text};
use super::model::QuestionnaireContent;
use crate::validation::Violation;

/// A translators' file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xliff,
}

impl Format {
    /// The media type of an export.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xliff => "application/xliff+xml",
        }
    }

    /// The file name extension of an export.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xliff => "xlf",
        }
    }

    /// The format of an uploaded file, by its media type (without parameters).
    pub fn of_media_type(essence: &str) -> Option<Format> {
        match essence {
            "text/csv" | "application/csv" => Some(Format::Csv),
            "application/xliff+xml"
            | "application/x-xliff+xml"
            | "application/xml"
            | "text/xml" => Some(Format::Xliff),
            _ => None,
        }
    }
}

/// What a file holds: a version's texts, its language and the translation's.
#[derive(Debug, Clone, Copy)]
pub struct Sheet<'a> {
    /// Names the version in an XLIFF file's `original`.
    pub version_id: &'a str,
    pub content: &'a QuestionnaireContent,
    /// The translation's language (canonical).
    pub language: &'a str,
}

/// The version's texts as a file, with `translated` (text key to text) filled in.
pub fn export(format: Format, sheet: Sheet<'_>, translated: &BTreeMap<String, String>) -> Vec<u8> {
    let texts = language::texts(sheet.content);
    match format {
        Format::Csv => csv::write(sheet, &texts, translated),
        Format::Xliff => xliff::write(sheet, &texts, translated),
    }
}

/// The translation a file gives, checked against the version: every problem of the file
/// listed, each at its row (`/rows/{n}/{column}`) or unit (`/units/{key}/target`).
pub fn import(
    format: Format,
    sheet: Sheet<'_>,
    bytes: &[u8],
) -> Result<BTreeMap<String, String>, Vec<Violation>> {
    let read = match format {
        Format::Csv => csv::read(sheet, bytes),
        Format::Xliff => xliff::read(sheet, bytes),
    };
    settle(sheet.content, read)
}

/// One text as a file gives it.
#[derive(Debug, Clone)]
struct Entry {
    /// Its place in the file (a row or unit number), to list problems in file order.
    order: usize,
    key: String,
    /// The source text the file carries beside it, when it carries one.
    source: Option<String>,
    /// The translation; `None` (or blank) leaves the text to the source.
    text: Option<String>,
    /// Where the key, the source and the translation are in the file.
    key_at: String,
    source_at: String,
    text_at: String,
}

/// A file read: its entries in file order, and the problems found while reading it, each
/// with its place in the file (0 for the file as a whole).
#[derive(Debug, Default)]
struct Read {
    entries: Vec<Entry>,
    violations: Vec<(usize, Violation)>,
}

impl Read {
    fn refuse(
        &mut self,
        order: usize,
        pointer: impl Into<String>,
        code: &str,
        message: impl Into<String>,
    ) {
        self.violations
            .push((order, Violation::new(pointer, code, message)));
    }
}

/// Line breaks as XML and spreadsheets may give them back.
fn same_text(a: &str, b: &str) -> bool {
    a.replace("\r\n", "\n") == b.replace("\r\n", "\n")
}

/// A text shortened for a message.
fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// A JSON Pointer's token (RFC 6901).
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Every entry checked against the version: keys it has and each once, sources as written
/// there (a file made from other texts is refused where they differ), then the rules of a
/// translation (lengths, placeholders), each reported where the file has it.
fn settle(
    content: &QuestionnaireContent,
    read: Read,
) -> Result<BTreeMap<String, String>, Vec<Violation>> {
    let texts = language::texts(content);
    let known: HashMap<&str, &Text> = texts.iter().map(|t| (t.key.as_str(), t)).collect();
    let mut violations = read.violations;
    let mut refuse = |order: usize, at: &str, code: &str, message: String| {
        violations.push((order, Violation::new(at, code, message)));
    };
    let mut first_at: HashMap<String, String> = HashMap::new();
    let mut given = BTreeMap::new();
    let mut text_at: HashMap<String, (usize, String)> = HashMap::new();
    for entry in read.entries {
        if let Some(earlier) = first_at.get(&entry.key) {
            refuse(
                entry.order,
                &entry.key_at,
                "duplicate_key",
                format!("`{}` is given twice (first at {earlier})", entry.key),
            );
            continue;
        }
        first_at.insert(entry.key.clone(), entry.key_at.clone());
        let Some(text) = known.get(entry.key.as_str()) else {
            refuse(
                entry.order,
                &entry.key_at,
                "unknown_key",
                format!(
                    "this version has no text `{}`; export the version again for its keys",
                    excerpt(&entry.key)
                ),
            );
            continue;
        };
        if let Some(source) = &entry.source
            && !same_text(source, &text.source)
        {
            refuse(
                entry.order,
                &entry.source_at,
                "source_changed",
                format!(
                    "the version's text reads \"{}\", not what this file was translated from; \
                     export the version again",
                    excerpt(&text.source)
                ),
            );
        }
        if let Some(translation) = entry.text.filter(|t| !t.trim().is_empty()) {
            text_at.insert(
                language::text_pointer(&entry.key),
                (entry.order, entry.text_at),
            );
            given.insert(entry.key, translation);
        }
    }
    if let Err(found) = language::check(content, &given) {
        violations.extend(
            found
                .into_iter()
                .map(|mut v| match text_at.get(&v.pointer) {
                    Some((order, at)) => {
                        v.pointer = at.clone();
                        (*order, v)
                    }
                    None => (0, v),
                }),
        );
    }
    if violations.is_empty() {
        Ok(given)
    } else {
        violations.sort_by_key(|(order, _)| *order);
        Err(violations.into_iter().map(|(_, v)| v).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn content() -> QuestionnaireContent {
        serde_json::from_value(serde_json::json!({
            "title": "Store visit",
            "description": "Two lines\r\nof description",
            "sections": [{
                "key": "welcome",
                "title": "Welcome",
                "questions": [
                    {"key": "greeted", "text": "=Were you greeted, {name}?", "type": "yes_no",
                     "help": "'Greeted' means spoken to"},
                    {"key": "wait", "text": "How long did you wait?", "type": "single_choice",
                     "options": [
                        {"value": "short", "label": "Under a minute"},
                        {"value": "long / very", "label": "-More than five minutes"}
                     ]}
                ]
            }]
        }))
        .unwrap()
    }

    fn sheet(content: &QuestionnaireContent) -> Sheet<'_> {
        Sheet {
            version_id: "0193a6f0-0000-7000-8000-000000000001",
            content,
            language: "de",
        }
    }

    fn german() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("title".to_string(), "Ladenbesuch".to_string()),
            (
                "questions.greeted.text".to_string(),
                "=Wurden Sie begrüßt, {name}?".to_string(),
            ),
            (
                "questions.greeted.help".to_string(),
                "'Begrüßt' heißt <angesprochen> & \"gemeint\"".to_string(),
            ),
            (
                "description".to_string(),
                "  Zwei Zeilen\r\nBeschreibung\ttab ".to_string(),
            ),
            (
                "questions.wait.options.long / very.label".to_string(),
                "-Mehr als fünf Minuten".to_string(),
            ),
        ])
    }

    #[test]
    fn an_export_imported_unchanged_gives_the_same_translation_and_the_same_bytes() {
        let content = content();
        for format in [Format::Csv, Format::Xliff] {
            let first = export(format, sheet(&content), &german());
            let back = import(format, sheet(&content), &first)
                .unwrap_or_else(|v| panic!("{format:?}: {v:?}"));
            assert_eq!(back, german(), "{format:?}");
            assert_eq!(export(format, sheet(&content), &back), first, "{format:?}");
        }
    }

    #[test]
    fn an_empty_translation_exports_every_source_text_and_imports_as_nothing() {
        let content = content();
        for format in [Format::Csv, Format::Xliff] {
            let file = export(format, sheet(&content), &BTreeMap::new());
            let text = String::from_utf8(file.clone()).unwrap();
            for t in language::texts(&content) {
                assert!(text.contains(&t.key), "{format:?} lacks {}", t.key);
            }
            assert_eq!(
                import(format, sheet(&content), &file).unwrap(),
                BTreeMap::new()
            );
        }
    }
}
