//! The CSV form: UTF-8 with a byte order mark (so that spreadsheets read accents and kana),
//! CRLF line ends, a header `key,{source language},{language},max_chars` and a row per text.
//! A cell a spreadsheet would take for a formula (beginning with `=`, `+`, `-`, `@`, a tab
//! or a carriage return), or one that begins with an apostrophe, is written with a leading
//! apostrophe, which import takes off again: what was written is what comes back.
//!
//! On import the header names the columns, in any order: `key` and the translation's
//! language are required, the source language's column is compared with the version when
//! present, `max_chars` is ignored. An empty translation leaves the text to the source.

use std::collections::BTreeMap;

use super::{Entry, Read, Sheet, token};
use crate::questionnaires::language::{self, Text};

const BOM: &str = "\u{feff}";
/// Rows a file may have (a version has at most 500 questions of 50 options each).
const MAX_ROWS: usize = 30_000;

/// A cell a spreadsheet shows as written.
fn guarded(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A cell as it was before [`guarded`]; a cell not guarded by it is taken as it is.
fn unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest)
            if matches!(
                rest.chars().next(),
                Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'')
            ) =>
        {
            rest
        }
        _ => cell,
    }
}

pub(super) fn write(
    sheet: Sheet<'_>,
    texts: &[Text],
    translated: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(BOM.as_bytes().to_vec());
    let source_language = sheet.content.source_language.as_str();
    // Writing into memory cannot fail.
    let _ = out.write_record(["key", source_language, sheet.language, "max_chars"]);
    for text in texts {
        let translation = translated.get(&text.key).map_or("", String::as_str);
        let _ = out.write_record([
            guarded(&text.key).as_ref(),
            guarded(&text.source).as_ref(),
            guarded(translation).as_ref(),
            &text.max_chars.to_string(),
        ]);
    }
    out.into_inner().unwrap_or_default()
}

/// The columns of a file, by what they hold.
#[derive(Debug, Default)]
struct Columns {
    key: Option<usize>,
    source: Option<usize>,
    translation: Option<usize>,
    count: usize,
}

fn header(sheet: Sheet<'_>, names: &::csv::StringRecord, read: &mut Read) -> Columns {
    let source_language = sheet.content.source_language.as_str();
    let mut columns = Columns {
        count: names.len(),
        ..Columns::default()
    };
    for (i, name) in names.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}').trim();
        let tag = language::canonical_tag(name).ok();
        let slot = if name.eq_ignore_ascii_case("key") {
            Some(&mut columns.key)
        } else if name.eq_ignore_ascii_case("max_chars") {
            None
        } else if tag.as_deref() == Some(sheet.language) {
            Some(&mut columns.translation)
        } else if tag.as_deref() == Some(source_language) {
            Some(&mut columns.source)
        } else {
            let message = match &tag {
                Some(tag) => format!(
                    "this column is in {tag}, but the file is imported as the {} translation \
                     of a version written in {source_language}",
                    sheet.language
                ),
                None => format!(
                    "unknown column `{name}`; the columns are key, {source_language}, {} and \
                     max_chars",
                    sheet.language
                ),
            };
            let code = if tag.is_some() {
                "wrong_language"
            } else {
                "unknown_column"
            };
            read.refuse(0, format!("/header/{i}"), code, message);
            continue;
        };
        match slot {
            Some(slot @ None) => *slot = Some(i),
            Some(Some(_)) => read.refuse(
                0,
                format!("/header/{i}"),
                "duplicate_column",
                format!("the column `{name}` appears twice"),
            ),
            None => {}
        }
    }
    for (found, name) in [(columns.key, "key"), (columns.translation, sheet.language)] {
        if found.is_none() {
            read.refuse(
                0,
                "/header",
                "missing_column",
                format!("the column `{name}` is required"),
            );
        }
    }
    columns
}

pub(super) fn read(sheet: Sheet<'_>, bytes: &[u8]) -> Read {
    let mut read = Read::default();
    if let Err(e) = std::str::from_utf8(bytes) {
        read.refuse(
            0,
            "",
            "not_utf8",
            format!(
                "the file must be UTF-8; byte {} is not (save it as \"CSV UTF-8\")",
                e.valid_up_to()
            ),
        );
        return read;
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let columns = match records.next() {
        Some(Ok(names)) => header(sheet, &names, &mut read),
        Some(Err(e)) => {
            read.refuse(
                0,
                "/header",
                "unreadable",
                format!("the header row cannot be read: {e}"),
            );
            return read;
        }
        None => {
            read.refuse(0, "", "empty_file", "the file has no header row");
            return read;
        }
    };
    let (Some(key_column), Some(text_column)) = (columns.key, columns.translation) else {
        return read;
    };
    let source_name = sheet.content.source_language.as_str();
    for (n, record) in records.enumerate() {
        let row = n + 1;
        if row > MAX_ROWS {
            read.refuse(row, "/rows", "too_many", format!("at most {MAX_ROWS} rows"));
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                read.refuse(
                    row,
                    format!("/rows/{row}"),
                    "unreadable",
                    format!("this row cannot be read: {e}"),
                );
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != columns.count {
            read.refuse(
                row,
                format!("/rows/{row}"),
                "wrong_field_count",
                format!(
                    "this row has {} cells and the header {}; a cell with a comma or a line \
                     break must be in double quotes",
                    record.len(),
                    columns.count
                ),
            );
            continue;
        }
        let at = |column: &str| format!("/rows/{row}/{}", token(column));
        let cell = |i: usize| unguarded(record.get(i).unwrap_or_default());
        let key = cell(key_column).trim();
        if key.is_empty() {
            read.refuse(row, at("key"), "required", "a row needs its key");
            continue;
        }
        read.entries.push(Entry {
            order: row,
            key: key.to_string(),
            // An empty source cell is not compared: the translator may clear the column.
            source: columns
                .source
                .map(|i| cell(i).to_string())
                .filter(|s| !s.is_empty()),
            text: Some(cell(text_column).to_string()).filter(|t| !t.is_empty()),
            key_at: at("key"),
            source_at: at(source_name),
            text_at: at(sheet.language),
        });
    }
    read
}

#[cfg(test)]
mod tests {
    use super::super::tests::content;
    use super::super::{Format, Sheet, import};

    fn sheet(content: &crate::questionnaires::model::QuestionnaireContent) -> Sheet<'_> {
        Sheet {
            version_id: "v",
            content,
            language: "de",
        }
    }

    fn problems(file: &str) -> Vec<(String, String)> {
        let content = content();
        import(Format::Csv, sheet(&content), file.as_bytes())
            .unwrap_err()
            .into_iter()
            .map(|v| (v.pointer, v.code))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn cells_guarded_against_formulas_come_back_as_written() {
        for cell in [
            "=1+1", "+49", "-x", "@me", "'quoted", "''", "plain", "'plain",
        ] {
            assert_eq!(super::unguarded(&super::guarded(cell)), cell);
        }
        assert_eq!(super::unguarded("'plain"), "'plain");
    }

    #[test]
    fn every_problem_of_a_file_is_listed_at_its_row() {
        let file = "key,en,de\r\n\
            title,Store visit,Besuch\r\n\
            questions.nope.text,,Nein\r\n\
            questions.greeted.text,'=Were you greeted?,Begrüßt?\r\n\
            title,Store visit,Nochmal\r\n\
            questions.wait.text,How long did you wait?,\r\n\
            questions.wait.options.short.label,Under a minute,too,many\r\n\
            ,x,y\r\n";
        assert_eq!(
            problems(file),
            pairs(&[
                ("/rows/2/key", "unknown_key"),
                ("/rows/3/en", "source_changed"),
                ("/rows/3/de", "missing_placeholder"),
                ("/rows/4/key", "duplicate_key"),
                ("/rows/6", "wrong_field_count"),
                ("/rows/7/key", "required"),
            ])
        );
    }

    #[test]
    fn the_header_must_name_the_key_and_the_language_of_the_address() {
        assert_eq!(
            problems("key,en,fr\r\ntitle,Store visit,Visite\r\n"),
            pairs(&[
                ("/header/2", "wrong_language"),
                ("/header", "missing_column")
            ])
        );
        assert_eq!(
            problems("clé,de,notes\r\n"),
            pairs(&[
                ("/header/0", "unknown_column"),
                ("/header/2", "unknown_column"),
                ("/header", "missing_column"),
            ])
        );
        assert_eq!(problems(""), pairs(&[("", "empty_file")]));
        let long = format!("key,de\r\ntitle,{}\r\n", "x".repeat(201));
        assert_eq!(problems(&long), pairs(&[("/rows/1/de", "too_long")]));
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused() {
        let content = content();
        let latin1 = b"key,de\r\ntitle,Begr\xfc\xdfung\r\n";
        let found = import(Format::Csv, sheet(&content), latin1).unwrap_err();
        assert_eq!(found[0].code, "not_utf8");
    }

    #[test]
    fn columns_may_come_in_any_order_and_the_source_may_be_left_out() {
        let content = content();
        let file =
            "max_chars,DE,Key\n200,Besuch,title\n5000,\"Zeile eins\nZeile zwei\",description\n";
        let got = import(Format::Csv, sheet(&content), file.as_bytes()).unwrap();
        assert_eq!(got["title"], "Besuch");
        assert_eq!(got["description"], "Zeile eins\nZeile zwei");
    }
}
