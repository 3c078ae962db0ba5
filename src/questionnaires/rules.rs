//! The structural rules a questionnaire version must satisfy before it can be stored:
//! keys, types and their settings, tiers, critical items, conditions. Every violation is
//! reported with its pointer. Pure: no I/O.

use std::collections::{HashMap, HashSet};

use super::model::*;
use crate::validation::Violation;

fn text_ok(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max
}

/// Checks every structural rule and returns every violation, each with a JSON Pointer
/// relative to the content (callers add their own prefix).
pub fn validate(content: &QuestionnaireContent) -> Vec<Violation> {
    let mut errors = Vec::new();
    let mut push = |pointer: String, code: &str, message: String| {
        errors.push(Violation::new(pointer, code, message));
    };

    if !text_ok(&content.title, 200) {
        push(
            "/title".into(),
            "invalid_text",
            "title needs 1 to 200 characters".into(),
        );
    }
    match super::language::canonical_tag(&content.source_language) {
        Ok(tag) if tag == content.source_language => {}
        Ok(tag) => push(
            "/source_language".into(),
            "invalid_language",
            format!("write it as {tag}"),
        ),
        Err(message) => push("/source_language".into(), "invalid_language", message),
    }
    if content.description.chars().count() > 5000 {
        push(
            "/description".into(),
            "too_long",
            "description has at most 5000 characters".into(),
        );
    }
    for (field, value) in [
        ("first_mile_pass", content.first_mile_pass),
        ("second_mile_pass", content.second_mile_pass),
    ] {
        if value > 100 {
            push(
                format!("/{field}"),
                "out_of_range",
                format!("{field} is a percentage from 0 to 100"),
            );
        }
    }
    if content.sections.is_empty() {
        push(
            "/sections".into(),
            "required",
            "a questionnaire needs at least one section".into(),
        );
    }
    if content.sections.len() > MAX_SECTIONS {
        push(
            "/sections".into(),
            "too_many",
            format!("at most {MAX_SECTIONS} sections"),
        );
    }
    let total: usize = content.sections.iter().map(|s| s.questions.len()).sum();
    if total > MAX_QUESTIONS {
        push(
            "/sections".into(),
            "too_many",
            format!("at most {MAX_QUESTIONS} questions in all"),
        );
    }

    let mut section_keys = HashSet::new();
    // Questions seen so far, in document order: `show_if` may only point backwards.
    let mut earlier: HashMap<&str, &Question> = HashMap::new();
    let mut scored = 0;
    for (si, section) in content.sections.iter().enumerate() {
        let sp = format!("/sections/{si}");
        if !is_slug(&section.key) {
            push(
                format!("{sp}/key"),
                "invalid_key",
                "a key has 1 to 64 characters of a-z, 0-9, _ and -".into(),
            );
        } else if !section_keys.insert(section.key.as_str()) {
            push(
                format!("{sp}/key"),
                "duplicate_key",
                format!("section key `{}` is used twice", section.key),
            );
        }
        if !text_ok(&section.title, 200) {
            push(
                format!("{sp}/title"),
                "invalid_text",
                "title needs 1 to 200 characters".into(),
            );
        }
        if !(section.weight.is_finite() && section.weight > 0.0) {
            push(
                format!("{sp}/weight"),
                "out_of_range",
                "weight must be greater than 0".into(),
            );
        }
        if section.questions.is_empty() {
            push(
                format!("{sp}/questions"),
                "required",
                "a section needs at least one question".into(),
            );
        }
        for (qi, q) in section.questions.iter().enumerate() {
            let qp = format!("{sp}/questions/{qi}");
            validate_question(q, &qp, &earlier, &mut push);
            if q.is_scored() {
                scored += 1;
            }
            if is_slug(&q.key) {
                if earlier.contains_key(q.key.as_str()) {
                    push(
                        format!("{qp}/key"),
                        "duplicate_key",
                        format!("question key `{}` is used twice", q.key),
                    );
                } else {
                    earlier.insert(q.key.as_str(), q);
                }
            }
        }
    }
    if scored == 0 && !content.sections.is_empty() {
        push(
            "/sections".into(),
            "no_scored_question",
            "at least one question must earn points".into(),
        );
    }
    errors
}

fn validate_question(
    q: &Question,
    qp: &str,
    earlier: &HashMap<&str, &Question>,
    push: &mut impl FnMut(String, &str, String),
) {
    use QuestionType::*;
    if !is_slug(&q.key) {
        push(
            format!("{qp}/key"),
            "invalid_key",
            "a key has 1 to 64 characters of a-z, 0-9, _ and -".into(),
        );
    }
    if !text_ok(&q.text, 1000) {
        push(
            format!("{qp}/text"),
            "invalid_text",
            "text needs 1 to 1000 characters".into(),
        );
    }
    if q.help.as_ref().is_some_and(|h| h.chars().count() > 2000) {
        push(
            format!("{qp}/help"),
            "too_long",
            "help has at most 2000 characters".into(),
        );
    }
    if !(q.weight.is_finite() && q.weight > 0.0) {
        push(
            format!("{qp}/weight"),
            "out_of_range",
            "weight must be greater than 0".into(),
        );
    }
    let not_for =
        |field: &str| format!("`{field}` does not apply to a {:?} question", q.kind).to_lowercase();
    let forbid = |present: bool, field: &str, push: &mut dyn FnMut(String, &str, String)| {
        if present {
            push(format!("{qp}/{field}"), "not_applicable", not_for(field));
        }
    };
    forbid(q.expected.is_some() && q.kind != YesNo, "expected", push);
    forbid(
        (q.min.is_some() || q.max.is_some()) && !matches!(q.kind, Scale | Number),
        "min",
        push,
    );
    forbid(
        q.target.is_some() && !matches!(q.kind, Number | DurationSeconds),
        "target",
        push,
    );
    forbid(q.max_length.is_some() && q.kind != Text, "max_length", push);
    forbid(
        q.options.is_some() && !matches!(q.kind, SingleChoice | MultiChoice),
        "options",
        push,
    );
    check_kind(q, qp, push);
    check_flags(q, qp, push);
    check_show_if(q, qp, earlier, push);
}

/// The rules of the question's kind (a scale's bounds, a number's target, a duration's
/// target, a text's length, a choice's options).
fn check_kind(q: &Question, qp: &str, push: &mut impl FnMut(String, &str, String)) {
    use QuestionType::*;
    match q.kind {
        Scale => match (q.min, q.max) {
            (Some(min), Some(max)) => {
                if min.fract() != 0.0 || max.fract() != 0.0 || !min.is_finite() || !max.is_finite()
                {
                    push(
                        format!("{qp}/min"),
                        "not_integer",
                        "a scale's min and max are integers".into(),
                    );
                } else if min >= max {
                    push(
                        format!("{qp}/max"),
                        "out_of_range",
                        "max must be greater than min".into(),
                    );
                } else if max - min > 100.0 {
                    push(
                        format!("{qp}/max"),
                        "out_of_range",
                        "a scale has at most 101 steps".into(),
                    );
                }
            }
            _ => push(
                format!("{qp}/min"),
                "required",
                "a scale needs min and max".into(),
            ),
        },
        Number => {
            if let (Some(min), Some(max)) = (q.min, q.max)
                && (min >= max || !min.is_finite() || !max.is_finite())
            {
                push(
                    format!("{qp}/max"),
                    "out_of_range",
                    "max must be greater than min".into(),
                );
            }
            if let Some(target) = q.target
                && (!target.is_finite()
                    || q.min.is_some_and(|m| target < m)
                    || q.max.is_some_and(|m| target > m))
            {
                push(
                    format!("{qp}/target"),
                    "out_of_range",
                    "target must lie within min and max".into(),
                );
            }
        }
        DurationSeconds => match q.target {
            Some(t) if t.is_finite() && t > 0.0 => {}
            _ => push(
                format!("{qp}/target"),
                "required",
                "a duration needs a target in seconds, greater than 0".into(),
            ),
        },
        Text => {
            if q.max_length.is_some_and(|m| m == 0 || m > MAX_TEXT_LENGTH) {
                push(
                    format!("{qp}/max_length"),
                    "out_of_range",
                    format!("max_length is from 1 to {MAX_TEXT_LENGTH}"),
                );
            }
        }
        SingleChoice | MultiChoice => match &q.options {
            None => push(
                format!("{qp}/options"),
                "required",
                "a choice question needs options".into(),
            ),
            Some(options) => check_options(options, qp, push),
        },
        YesNo | Photo => {}
    }
}

/// A choice question's options: 2 to [`MAX_OPTIONS`], distinct values, labels and points.
fn check_options(options: &[ChoiceOption], qp: &str, push: &mut impl FnMut(String, &str, String)) {
    if options.len() < 2 || options.len() > MAX_OPTIONS {
        push(
            format!("{qp}/options"),
            "out_of_range",
            format!("a choice question has 2 to {MAX_OPTIONS} options"),
        );
    }
    let mut values = HashSet::new();
    for (oi, o) in options.iter().enumerate() {
        let op = format!("{qp}/options/{oi}");
        if o.value.is_empty() || o.value.chars().count() > 100 {
            push(
                format!("{op}/value"),
                "invalid_text",
                "a value has 1 to 100 characters".into(),
            );
        } else if !values.insert(o.value.as_str()) {
            push(
                format!("{op}/value"),
                "duplicate_value",
                format!("option value `{}` is used twice", o.value),
            );
        }
        if !text_ok(&o.label, 200) {
            push(
                format!("{op}/label"),
                "invalid_text",
                "a label needs 1 to 200 characters".into(),
            );
        }
        if !(o.points.is_finite() && o.points >= 0.0) {
            push(
                format!("{op}/points"),
                "out_of_range",
                "points are 0 or more".into(),
            );
        }
    }
}

/// Tier, staff, bonus and critical: each only where the question can have it.
fn check_flags(q: &Question, qp: &str, push: &mut impl FnMut(String, &str, String)) {
    let scored = q.is_scored();
    if q.tier.is_some() && !scored {
        push(
            format!("{qp}/tier"),
            "not_applicable",
            "only a question that earns points has a tier".into(),
        );
    }
    if q.shows_staff && q.kind != QuestionType::Photo {
        push(
            format!("{qp}/shows_staff"),
            "not_applicable",
            "only a photo question can show staff".into(),
        );
    }
    if q.bonus && !scored {
        push(
            format!("{qp}/bonus"),
            "not_applicable",
            "only a question that earns points can be a bonus".into(),
        );
    }
    if q.critical {
        if !scored || q.tier != Some(Tier::First) {
            push(
                format!("{qp}/critical"),
                "not_applicable",
                "only a scored first-tier question can be critical".into(),
            );
        } else if q.bonus {
            push(
                format!("{qp}/critical"),
                "not_applicable",
                "a bonus question cannot be critical".into(),
            );
        }
    }
}

/// A condition names an earlier question that can condition, with possible answers.
fn check_show_if(
    q: &Question,
    qp: &str,
    earlier: &HashMap<&str, &Question>,
    push: &mut impl FnMut(String, &str, String),
) {
    if let Some(show_if) = &q.show_if {
        let sp = format!("{qp}/show_if");
        match earlier.get(show_if.question.as_str()) {
            None => push(
                format!("{sp}/question"),
                "unknown_question",
                format!(
                    "`{}` is not an earlier question of this version",
                    show_if.question
                ),
            ),
            Some(source) if !source.kind.can_condition() => push(
                format!("{sp}/question"),
                "not_applicable",
                "a condition refers to a yes_no, scale or choice question".into(),
            ),
            Some(source) => {
                if show_if.equals.is_empty() {
                    push(
                        format!("{sp}/equals"),
                        "required",
                        "list at least one value".into(),
                    );
                }
                for (vi, value) in show_if.equals.iter().enumerate() {
                    if !is_possible_answer(source, value) {
                        push(
                            format!("{sp}/equals/{vi}"),
                            "impossible_value",
                            format!("`{value}` is not a possible answer of `{}`", source.key),
                        );
                    }
                }
            }
        }
    }
}

/// Whether `value` is an answer `q` can receive (used for conditions).
fn is_possible_answer(q: &Question, value: &serde_json::Value) -> bool {
    match q.kind {
        QuestionType::YesNo => value.is_boolean(),
        QuestionType::Scale => value.as_f64().is_some_and(|v| {
            v.fract() == 0.0 && q.min.is_some_and(|m| v >= m) && q.max.is_some_and(|m| v <= m)
        }),
        QuestionType::SingleChoice | QuestionType::MultiChoice => value.as_str().is_some_and(|v| {
            q.options
                .as_ref()
                .is_some_and(|options| options.iter().any(|o| o.value == v))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaires::model::tests::example;
    use serde_json::json;

    #[test]
    fn the_example_questionnaire_is_valid() {
        assert_eq!(validate(&example()), vec![]);
    }

    fn pointers(content: serde_json::Value) -> Vec<(String, String)> {
        let content: QuestionnaireContent = serde_json::from_value(content).unwrap();
        validate(&content)
            .into_iter()
            .map(|v| (v.pointer, v.code))
            .collect()
    }

    #[test]
    fn every_structural_violation_is_reported_with_its_pointer() {
        let found = pointers(json!({
            "title": "",
            "first_mile_pass": 120,
            "sections": [
                {"key": "Bad Key", "title": "A", "weight": 0, "questions": [
                    {"key": "q1", "text": "Greeted?", "type": "yes_no", "weight": -1},
                    {"key": "q1", "text": "Dup", "type": "yes_no"},
                    {"key": "s", "text": "Scale", "type": "scale", "min": 5, "max": 1},
                    {"key": "c", "text": "Choice", "type": "single_choice", "options": [
                        {"value": "a", "label": "A", "points": 0}, {"value": "a", "label": "B", "points": 0}]},
                    {"key": "t", "text": "Notes", "type": "text", "tier": "first", "critical": true},
                    {"key": "n", "text": "Later", "type": "yes_no", "show_if": {"question": "later", "equals": [true]}},
                    {"key": "m", "text": "Cond", "type": "yes_no", "show_if": {"question": "c", "equals": ["zzz"]}},
                    {"key": "later", "text": "L", "type": "yes_no", "expected": false, "min": 1},
                    {"key": "d", "text": "Wait", "type": "duration_seconds"},
                    {"key": "x", "text": "Crit second", "type": "yes_no", "tier": "second", "critical": true}
                ]}
            ]
        }));
        let expect = [
            ("/title", "invalid_text"),
            ("/first_mile_pass", "out_of_range"),
            ("/sections/0/key", "invalid_key"),
            ("/sections/0/weight", "out_of_range"),
            ("/sections/0/questions/0/weight", "out_of_range"),
            ("/sections/0/questions/1/key", "duplicate_key"),
            ("/sections/0/questions/2/max", "out_of_range"),
            ("/sections/0/questions/3/options/1/value", "duplicate_value"),
            ("/sections/0/questions/4/tier", "not_applicable"),
            ("/sections/0/questions/4/critical", "not_applicable"),
            (
                "/sections/0/questions/5/show_if/question",
                "unknown_question",
            ),
            (
                "/sections/0/questions/6/show_if/equals/0",
                "impossible_value",
            ),
            ("/sections/0/questions/7/min", "not_applicable"),
            ("/sections/0/questions/8/target", "required"),
            ("/sections/0/questions/9/critical", "not_applicable"),
        ];
        for (pointer, code) in expect {
            assert!(
                found.iter().any(|(p, c)| p == pointer && c == code),
                "missing {pointer} {code} in {found:#?}"
            );
        }
    }

    #[test]
    fn a_questionnaire_without_scored_questions_is_refused() {
        let found = pointers(
            json!({"title": "T", "sections": [{"key": "a", "title": "A", "questions": [
            {"key": "notes", "text": "Notes", "type": "text"}]}]}),
        );
        assert_eq!(
            found,
            vec![("/sections".to_string(), "no_scored_question".to_string())]
        );
    }

    #[test]
    fn slugs_are_lower_case_and_short() {
        assert!(is_slug("wait-time_2"));
        for bad in ["", "Upper", "-lead", "has space", &"a".repeat(65)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }
}
