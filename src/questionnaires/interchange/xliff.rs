//! The XLIFF 2.0 form (OASIS, core only): one `<file>` whose `original` names the version,
//! a `<unit>` per text with the text's key as its `name` (ids are `t1`, `t2`, … since keys
//! may hold characters an id may not), a note with the longest length, and one segment:
//! `state="translated"` with a `<target>` where there is a translation, `state="initial"`
//! and no target where there is none. Whitespace is preserved and carriage returns are
//! written as `&#13;`, so that every text comes back as it was.
//!
//! On import a unit's key is its `name` (else its `id`); its segments and ignorables are
//! joined as XLIFF says; a unit with no target leaves the text to the source, one whose
//! segments are only partly translated is refused. Inline codes (`<ph>`, `<pc>`, …) are
//! refused: the texts are plain; `<mrk>` annotations are read as their text.

use std::collections::BTreeMap;
use std::fmt::Write;

use quick_xml::NsReader;
use quick_xml::escape::{escape, partial_escape, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

use super::{Entry, Read, Sheet, token};
use crate::questionnaires::language::{self, Text};

const NS: &str = "urn:oasis:names:tc:xliff:document:2.0";

/// Text content as XML that gives it back exactly.
fn content(s: &str) -> String {
    partial_escape(s).replace('\r', "&#13;")
}

/// An attribute value as XML that gives it back exactly.
fn attribute(s: &str) -> String {
    escape(s)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

pub(super) fn write(
    sheet: Sheet<'_>,
    texts: &[Text],
    translated: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<xliff xmlns="{NS}" version="2.0" srcLang="{}" trgLang="{}" xml:space="preserve">"#,
        attribute(&sheet.content.source_language),
        attribute(sheet.language)
    );
    let _ = writeln!(
        out,
        r#"  <file id="f1" original="questionnaires/{}">"#,
        attribute(sheet.version_id)
    );
    for (i, text) in texts.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"    <unit id="t{}" name="{}">"#,
            i + 1,
            attribute(&text.key)
        );
        let _ = writeln!(
            out,
            r#"      <notes><note category="max_chars">{}</note></notes>"#,
            text.max_chars
        );
        let source = content(&text.source);
        match translated.get(&text.key) {
            Some(target) => {
                let _ = writeln!(out, r#"      <segment state="translated">"#);
                let _ = writeln!(out, "        <source>{source}</source>");
                let _ = writeln!(out, "        <target>{}</target>", content(target));
            }
            None => {
                let _ = writeln!(out, r#"      <segment state="initial">"#);
                let _ = writeln!(out, "        <source>{source}</source>");
            }
        }
        let _ = writeln!(out, "      </segment>");
        let _ = writeln!(out, "    </unit>");
    }
    let _ = writeln!(out, "  </file>");
    let _ = writeln!(out, "</xliff>");
    out.into_bytes()
}

/// A unit being read.
#[derive(Debug, Default)]
struct Unit {
    order: usize,
    key: Option<String>,
    source: String,
    target: String,
    has_source: bool,
    translated: usize,
    untranslated: usize,
    markup: Option<String>,
}

/// A segment or an ignorable being read.
#[derive(Debug, Default)]
struct Part {
    ignorable: bool,
    source: String,
    target: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Source,
    Target,
}

/// Where the reader is.
#[derive(Debug, Default)]
struct Walk {
    root: bool,
    units: usize,
    /// Depth inside an element of another namespace (skipped whole).
    foreign: usize,
    unit: Option<Unit>,
    part: Option<Part>,
    field: Option<Field>,
}

impl Walk {
    /// Text inside a source or a target.
    fn text(&mut self, s: &str) {
        let (Some(part), Some(field)) = (self.part.as_mut(), self.field) else {
            return;
        };
        match field {
            Field::Source => part.source.push_str(s),
            Field::Target => part.target.get_or_insert_default().push_str(s),
        }
    }

    fn open(&mut self, sheet: Sheet<'_>, ours: bool, e: &BytesStart<'_>, read: &mut Read) {
        let name = e.local_name();
        let name = String::from_utf8_lossy(name.as_ref()).into_owned();
        if self.field.is_some() {
            if !(ours && name == "mrk")
                && let Some(unit) = self.unit.as_mut()
            {
                unit.markup.get_or_insert(name);
            }
            return;
        }
        if !ours {
            return;
        }
        match name.as_str() {
            "xliff" => {
                self.root = true;
                root(sheet, e, read);
            }
            "unit" => {
                self.units += 1;
                let key = attr(e, "name").or_else(|| attr(e, "id"));
                self.unit = Some(Unit {
                    order: self.units,
                    key,
                    ..Unit::default()
                });
            }
            "segment" | "ignorable" if self.unit.is_some() => {
                self.part = Some(Part {
                    ignorable: name == "ignorable",
                    ..Part::default()
                });
            }
            "source" if self.part.is_some() => {
                if let Some(unit) = self.unit.as_mut() {
                    unit.has_source = true;
                }
                self.field = Some(Field::Source);
            }
            "target" => {
                if let Some(part) = self.part.as_mut() {
                    part.target.get_or_insert_default();
                    self.field = Some(Field::Target);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, ours: bool, local: &[u8], read: &mut Read) {
        if !ours {
            return;
        }
        match local {
            b"source" | b"target" => self.field = None,
            b"segment" | b"ignorable" => {
                if let (Some(part), Some(unit)) = (self.part.take(), self.unit.as_mut()) {
                    unit.source.push_str(&part.source);
                    match (part.target, part.ignorable) {
                        (Some(target), _) => {
                            unit.target.push_str(&target);
                            if !part.ignorable {
                                unit.translated += 1;
                            }
                        }
                        (None, true) => unit.target.push_str(&part.source),
                        (None, false) => unit.untranslated += 1,
                    }
                }
            }
            b"unit" => {
                if let Some(unit) = self.unit.take() {
                    finish(unit, read);
                }
            }
            _ => {}
        }
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    let found = e.try_get_attribute(name).ok()??;
    found.unescape_value().ok().map(|v| v.into_owned())
}

/// The `<xliff>` element: version 2, the version's source language, the address's language.
fn root(sheet: Sheet<'_>, e: &BytesStart<'_>, read: &mut Read) {
    let version = attr(e, "version").unwrap_or_default();
    if !version.starts_with("2.") {
        read.refuse(
            0,
            "/xliff/version",
            "unsupported_version",
            format!("XLIFF `{version}` is not read; save the file as XLIFF 2.0"),
        );
    }
    let languages = [
        (
            "srcLang",
            sheet.content.source_language.as_str(),
            "the version's own language",
        ),
        ("trgLang", sheet.language, "the language of the address"),
    ];
    for (name, wanted, what) in languages {
        let at = format!("/xliff/{name}");
        match attr(e, name) {
            None => read.refuse(0, at, "required", format!("`{name}` must be {wanted}")),
            Some(given) if language::canonical_tag(&given).as_deref() != Ok(wanted) => {
                read.refuse(
                    0,
                    at,
                    "wrong_language",
                    format!("`{name}` is {given}, but {what} is {wanted}"),
                );
            }
            Some(_) => {}
        }
    }
}

fn finish(unit: Unit, read: &mut Read) {
    let Some(key) = unit.key.filter(|k| !k.trim().is_empty()) else {
        read.refuse(
            unit.order,
            format!("/units/{}", unit.order),
            "required",
            "a unit needs the text's key in its `name` attribute",
        );
        return;
    };
    let at = format!("/units/{}", token(&key));
    if let Some(element) = unit.markup {
        read.refuse(
            unit.order,
            format!("{at}/target"),
            "inline_markup",
            format!("`<{element}>` is not taken: the texts are plain, write it as text"),
        );
        return;
    }
    if unit.translated > 0 && unit.untranslated > 0 {
        read.refuse(
            unit.order,
            format!("{at}/target"),
            "partly_translated",
            "some segments of this unit have a target and some have none; translate all or none",
        );
        return;
    }
    read.entries.push(Entry {
        order: unit.order,
        key,
        source: unit.has_source.then_some(unit.source),
        text: (unit.translated > 0).then_some(unit.target),
        source_at: format!("{at}/source"),
        text_at: format!("{at}/target"),
        key_at: at,
    });
}

pub(super) fn read(sheet: Sheet<'_>, bytes: &[u8]) -> Read {
    let mut read = Read::default();
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(e) => {
            read.refuse(
                0,
                "",
                "not_utf8",
                format!("the file must be UTF-8; byte {} is not", e.valid_up_to()),
            );
            return read;
        }
    };
    let mut reader = NsReader::from_str(text);
    let mut walk = Walk::default();
    loop {
        let event = reader.read_resolved_event();
        let (ours, event) = match event {
            Ok((ns, event)) => (
                matches!(ns, ResolveResult::Bound(Namespace(n)) if n == NS.as_bytes()),
                event,
            ),
            Err(e) => {
                read.refuse(
                    0,
                    "",
                    "malformed_xml",
                    format!(
                        "not well-formed XML near byte {}: {e}",
                        reader.error_position()
                    ),
                );
                break;
            }
        };
        if !walk.root && matches!(event, Event::Start(_) | Event::Empty(_)) && !ours {
            read.refuse(
                0,
                "",
                "not_xliff",
                format!("the root must be XLIFF 2.0's <xliff> (namespace {NS})"),
            );
            break;
        }
        match event {
            Event::Eof => break,
            Event::DocType(_) => {
                read.refuse(0, "", "doctype", "a document type declaration is not taken");
                break;
            }
            Event::Start(_) if walk.foreign > 0 || (!ours && walk.field.is_none()) => {
                walk.foreign += 1;
            }
            Event::End(_) if walk.foreign > 0 => walk.foreign -= 1,
            Event::Start(e) => walk.open(sheet, ours, &e, &mut read),
            Event::Empty(e) if walk.foreign == 0 => {
                walk.open(sheet, ours, &e, &mut read);
                let local = e.local_name();
                walk.close(ours, local.as_ref(), &mut read);
            }
            Event::End(e) => {
                let local = e.local_name();
                walk.close(ours, local.as_ref(), &mut read);
            }
            Event::Text(t) if walk.foreign == 0 => {
                if let Ok(s) = t.xml10_content() {
                    walk.text(&s);
                }
            }
            Event::CData(c) if walk.foreign == 0 => {
                if let Ok(s) = c.xml10_content() {
                    walk.text(&s);
                }
            }
            Event::GeneralRef(r) if walk.foreign == 0 => {
                let name = r.decode().map(|n| n.into_owned()).unwrap_or_default();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => walk.text(c.encode_utf8(&mut [0; 4])),
                    _ => match resolve_predefined_entity(&name) {
                        Some(s) => walk.text(s),
                        None => {
                            read.refuse(
                                0,
                                "",
                                "malformed_xml",
                                format!(
                                    "`&{name};` near byte {} is not an XML entity",
                                    reader.buffer_position()
                                ),
                            );
                            break;
                        }
                    },
                }
            }
            _ => {}
        }
    }
    if !walk.root && read.violations.is_empty() {
        read.refuse(0, "", "not_xliff", "the file has no <xliff> element");
    }
    read
}

#[cfg(test)]
mod tests {
    use super::super::tests::content;
    use super::super::{Format, Sheet, import};

    fn problems(file: &str) -> Vec<(String, String)> {
        let content = content();
        let sheet = Sheet {
            version_id: "v",
            content: &content,
            language: "de",
        };
        match import(Format::Xliff, sheet, file.as_bytes()) {
            Ok(texts) => panic!("taken: {texts:?}"),
            Err(found) => found.into_iter().map(|v| (v.pointer, v.code)).collect(),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    fn xliff(src: &str, trg: &str, units: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="{src}" trgLang="{trg}"><file id="f"><group id="g">{units}</group></file></xliff>"#
        )
    }

    #[test]
    fn segments_are_joined_and_annotations_read_as_text() {
        let content = content();
        let sheet = Sheet {
            version_id: "v",
            content: &content,
            language: "de",
        };
        let file = xliff(
            "en",
            "DE",
            r#"<unit id="a" name="title"><segment><source>Store</source><target>Laden</target></segment><ignorable><source> </source></ignorable><segment><source>visit</source><target><mrk id="m" translate="yes">besuch</mrk></target></segment></unit>
               <unit id="questions.wait.text"><segment><source>How long did you wait?</source><target>Wie lange &amp; &#x2014;<![CDATA[<warten>]]>?</target></segment></unit>
               <x:meta xmlns:x="urn:other"><x:unit name="title">ignored</x:unit></x:meta>"#,
        );
        let got = import(Format::Xliff, sheet, file.as_bytes()).unwrap();
        assert_eq!(got["title"], "Laden besuch");
        assert_eq!(got["questions.wait.text"], "Wie lange & \u{2014}<warten>?");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn every_problem_of_a_file_is_listed_at_its_unit() {
        let units = r#"<unit id="u1" name="nope"><segment><source>x</source><target>y</target></segment></unit>
            <unit id="u2" name="title"><segment><source>Shop visit</source><target>Besuch</target></segment></unit>
            <unit id="u3" name="questions.greeted.text"><segment><source>=Were you greeted, {name}?</source><target>Begrüßt <ph id="1"/>?</target></segment></unit>
            <unit id="u4" name="questions.wait.text"><segment><source>How long</source><target>Wie</target></segment><segment><source> did you wait?</source></segment></unit>
            <unit id="u5"><segment><source>x</source></segment></unit>
            <unit id="u6" name="title"><segment><source>Store visit</source></segment></unit>"#;
        assert_eq!(
            problems(&xliff("fr", "de", units)),
            pairs(&[
                ("/xliff/srcLang", "wrong_language"),
                ("/units/nope", "unknown_key"),
                ("/units/title/source", "source_changed"),
                ("/units/questions.greeted.text/target", "inline_markup"),
                ("/units/questions.wait.text/target", "partly_translated"),
                ("/units/u5", "unknown_key"),
                ("/units/title", "duplicate_key"),
            ])
        );
    }

    #[test]
    fn files_that_are_not_xliff_2_are_refused_with_the_reason() {
        let one_two =
            r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2"><file/></xliff>"#;
        assert_eq!(problems(one_two), pairs(&[("", "not_xliff")]));
        assert_eq!(
            problems(
                r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="de"><file><unit name="title"></file></xliff>"#
            ),
            pairs(&[("", "malformed_xml")])
        );
        assert_eq!(
            problems(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><xliff/>"#),
            pairs(&[("", "doctype")])
        );
        assert_eq!(
            problems(&xliff(
                "en",
                "de",
                "<unit name=\"title\"><segment><source>Store visit</source><target>&lol;</target></segment></unit>"
            )),
            pairs(&[("", "malformed_xml")])
        );
        let no_target_language =
            r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="en"/>"#;
        assert_eq!(
            problems(no_target_language),
            pairs(&[("/xliff/trgLang", "required")])
        );
        assert_eq!(problems(""), pairs(&[("", "not_xliff")]));
    }
}
