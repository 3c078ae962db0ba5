//! The rules a submission must follow against the exact questionnaire version it answers
//! and the location it names; every violation is reported at once. Pure: no I/O.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};

use super::model::*;
use super::scoring::{self, Answer};
use crate::ids::AttachmentId;
use crate::locations::model::Location;
use crate::questionnaires::model::{Question, QuestionType, Questionnaire, Status};
use crate::validation::Violation;

/// What the checks need to know besides the submission.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub max_age_days: i64,
    pub checkin_radius_m: f64,
    /// `None` when the id names no location of the caller's organization.
    pub location: Option<&'a Location>,
    /// `None` when the id names no questionnaire of the caller's organization.
    pub questionnaire: Option<&'a Questionnaire>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Checks the submission against every rule and returns every violation.
pub fn validate(sub: &ReportSubmission, ctx: &Context<'_>) -> Vec<Violation> {
    let mut errors = Vec::new();
    let mut push = |pointer: String, code: &str, message: String| {
        errors.push(Violation::new(pointer, code, message))
    };

    match ctx.location {
        None => push(
            "/location_id".into(),
            "unknown_location",
            "no location with this id in your organization".into(),
        ),
        Some(l) if !l.active => push(
            "/location_id".into(),
            "inactive_location",
            "this location is deactivated".into(),
        ),
        Some(_) => {}
    }
    match ctx.questionnaire {
        None => push(
            "/questionnaire_id".into(),
            "unknown_questionnaire",
            "no questionnaire version with this id in your organization".into(),
        ),
        Some(q) if q.status != Status::Published => push(
            "/questionnaire_id".into(),
            "not_published",
            format!(
                "version {} of `{}` is {}; answer a published version",
                q.version,
                q.key,
                q.status.as_str()
            ),
        ),
        Some(_) => {}
    }

    check_visit(&sub.visit, ctx, &mut push);

    if let Some(language) = &sub.language
        && let Err(message) = crate::questionnaires::language::canonical_tag(language)
    {
        push("/language".into(), "invalid_language", message);
    }
    if chars(&sub.narrative) > MAX_NARRATIVE_CHARS {
        push(
            "/narrative".into(),
            "too_long",
            format!("the narrative has at most {MAX_NARRATIVE_CHARS} characters"),
        );
    }
    if let Some(c) = &sub.check_in {
        if !(c.lat.is_finite() && (-90.0..=90.0).contains(&c.lat)) {
            push(
                "/check_in/lat".into(),
                "out_of_range",
                "latitude is from -90 to 90".into(),
            );
        }
        if !(c.lon.is_finite() && (-180.0..=180.0).contains(&c.lon)) {
            push(
                "/check_in/lon".into(),
                "out_of_range",
                "longitude is from -180 to 180".into(),
            );
        }
        if c.accuracy_m.is_some_and(|a| !(a.is_finite() && a >= 0.0)) {
            push(
                "/check_in/accuracy_m".into(),
                "out_of_range",
                "accuracy is 0 metres or more".into(),
            );
        }
    }
    if sub.staff_observed.len() > MAX_STAFF_OBSERVED {
        push(
            "/staff_observed".into(),
            "too_many",
            format!("at most {MAX_STAFF_OBSERVED} entries"),
        );
    }
    for (i, s) in sub.staff_observed.iter().enumerate() {
        if s.description.trim().is_empty() || chars(&s.description) > 500 {
            push(
                format!("/staff_observed/{i}/description"),
                "invalid_text",
                "a description has 1 to 500 characters".into(),
            );
        }
        if s.role.as_ref().is_some_and(|r| chars(r) > 100) {
            push(
                format!("/staff_observed/{i}/role"),
                "too_long",
                "a role has at most 100 characters".into(),
            );
        }
        if s.first_name
            .as_ref()
            .is_some_and(|n| n.trim().is_empty() || chars(n) > 50)
        {
            push(
                format!("/staff_observed/{i}/first_name"),
                "invalid_text",
                "a first name has 1 to 50 characters".into(),
            );
        }
    }
    if let Some(c) = &sub.client {
        for (field, value, max) in [("app", &c.app, 100), ("version", &c.version, 50)] {
            if chars(value) > max {
                push(
                    format!("/client/{field}"),
                    "too_long",
                    format!("{field} has at most {max} characters"),
                );
            }
        }
        if c.device_id.as_ref().is_some_and(|d| chars(d) > 200) {
            push(
                "/client/device_id".into(),
                "too_long",
                "device_id has at most 200 characters".into(),
            );
        }
    }

    if sub.answers.len() > MAX_ANSWERS {
        push(
            "/answers".into(),
            "too_many",
            format!("at most {MAX_ANSWERS} answers"),
        );
    } else if let Some(q) = ctx.questionnaire {
        check_answers(&sub.answers, q, &mut push);
        check_files(sub, q, &mut push);
    }
    errors
}

/// The answers of an amended report checked against its questionnaire: the visit, the
/// location and the report's age were checked when it was submitted, and an amendment
/// changes answers only.
pub fn validate_answers(sub: &ReportSubmission, q: &Questionnaire) -> Vec<Violation> {
    let mut errors = Vec::new();
    let mut push = |pointer: String, code: &str, message: String| {
        errors.push(Violation::new(pointer, code, message))
    };
    check_answers(&sub.answers, q, &mut push);
    check_files(sub, q, &mut push);
    errors
}

/// Each file id is named once (by one photo answer or the receipt), and a report names at
/// most as many files as it may have.
fn check_files(
    sub: &ReportSubmission,
    q: &Questionnaire,
    push: &mut impl FnMut(String, &str, String),
) {
    let mut seen: Vec<AttachmentId> = Vec::new();
    for (i, answer) in sub.answers.iter().enumerate() {
        let photo = q
            .content
            .sections
            .iter()
            .flat_map(|s| &s.questions)
            .any(|x| x.key == answer.question && x.kind == QuestionType::Photo);
        let Some(id) = answer
            .value
            .as_ref()
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<AttachmentId>().ok())
        else {
            continue;
        };
        if !photo {
            continue;
        }
        if seen.contains(&id) {
            push(
                format!("/answers/{i}/value"),
                "duplicate_attachment",
                "another answer names the same file; each photo has its own id".into(),
            );
        } else {
            seen.push(id);
        }
    }
    if let Some(receipt) = sub.receipt {
        if seen.contains(&receipt) {
            push(
                "/receipt".into(),
                "duplicate_attachment",
                "a photo answer names the same file; the receipt has its own id".into(),
            );
        } else {
            seen.push(receipt);
        }
    }
    if seen.len() > MAX_FILES_PER_REPORT {
        push(
            "/answers".into(),
            "too_many_attachments",
            format!(
                "the report names {} files; a report has at most {MAX_FILES_PER_REPORT}",
                seen.len()
            ),
        );
    }
}

fn check_visit(visit: &Visit, ctx: &Context<'_>, push: &mut impl FnMut(String, &str, String)) {
    let started = visit.started_at.with_timezone(&Utc);
    let ended = visit.ended_at.with_timezone(&Utc);
    if ended < started {
        push(
            "/visit/ended_at".into(),
            "before_start",
            "the visit ends before it starts".into(),
        );
    } else if ended - started > TimeDelta::hours(MAX_VISIT_HOURS) {
        push(
            "/visit/ended_at".into(),
            "too_long",
            format!("a visit lasts at most {MAX_VISIT_HOURS} hours"),
        );
    }
    let latest = ctx.now + TimeDelta::minutes(CLOCK_SKEW_MINUTES);
    for (field, at) in [("started_at", started), ("ended_at", ended)] {
        if at > latest {
            push(
                format!("/visit/{field}"),
                "in_future",
                "the time is in the future".into(),
            );
        }
    }
    if started < ctx.now - TimeDelta::days(ctx.max_age_days) {
        push(
            "/visit/started_at".into(),
            "too_old",
            format!(
                "visits older than {} days are not accepted",
                ctx.max_age_days
            ),
        );
    }
}

fn check_answers(
    answers: &[Answer],
    questionnaire: &Questionnaire,
    push: &mut impl FnMut(String, &str, String),
) {
    let content = &questionnaire.content;
    let visible = scoring::visibility(content, answers);
    let mut seen: HashSet<&str> = HashSet::new();
    let mut by_key: HashMap<&str, &Answer> = HashMap::new();
    for (i, a) in answers.iter().enumerate() {
        let ap = format!("/answers/{i}");
        if a.comment
            .as_ref()
            .is_some_and(|c| chars(c) > MAX_COMMENT_CHARS)
        {
            push(
                format!("{ap}/comment"),
                "too_long",
                format!("a comment has at most {MAX_COMMENT_CHARS} characters"),
            );
        }
        let Some(q) = content.question(&a.question) else {
            push(
                format!("{ap}/question"),
                "unknown_question",
                format!("`{}` is not a question of this version", a.question),
            );
            continue;
        };
        if !seen.insert(a.question.as_str()) {
            push(
                format!("{ap}/question"),
                "duplicate_answer",
                format!("`{}` is answered twice", a.question),
            );
            continue;
        }
        by_key.insert(a.question.as_str(), a);
        if !visible.get(q.key.as_str()).copied().unwrap_or(false) {
            push(
                format!("{ap}/question"),
                "hidden_question",
                format!(
                    "`{}` is not shown for these answers, so it cannot be answered",
                    q.key
                ),
            );
            continue;
        }
        if a.na {
            if !q.na_allowed {
                push(
                    format!("{ap}/na"),
                    "na_not_allowed",
                    format!("`{}` cannot be answered N/A", q.key),
                );
            }
            if a.value.is_some() {
                push(
                    format!("{ap}/value"),
                    "value_with_na",
                    "an N/A answer has no value".into(),
                );
            }
            continue;
        }
        match &a.value {
            None | Some(serde_json::Value::Null) => push(
                format!("{ap}/value"),
                "required",
                format!("`{}` needs a value (or `na` where allowed)", q.key),
            ),
            Some(value) => check_value(q, value, &format!("{ap}/value"), push),
        }
    }
    for (_, q) in content.questions() {
        if q.required
            && visible.get(q.key.as_str()).copied().unwrap_or(false)
            && !by_key.contains_key(q.key.as_str())
        {
            push(
                "/answers".into(),
                "missing_answer",
                format!("`{}` is required and was not answered", q.key),
            );
        }
    }
}

fn check_value(
    q: &Question,
    value: &serde_json::Value,
    vp: &str,
    push: &mut impl FnMut(String, &str, String),
) {
    let wrong_type = |expected: &str| format!("`{}` takes {expected}", q.key);
    match q.kind {
        QuestionType::YesNo => {
            if !value.is_boolean() {
                push(vp.into(), "invalid_type", wrong_type("true or false"));
            }
        }
        QuestionType::Scale => match value.as_f64() {
            Some(v) if v.fract() == 0.0 => {
                let (min, max) = (q.min.unwrap_or(f64::MIN), q.max.unwrap_or(f64::MAX));
                if v < min || v > max {
                    push(
                        vp.into(),
                        "out_of_range",
                        format!("`{}` is from {min} to {max}", q.key),
                    );
                }
            }
            _ => push(vp.into(), "invalid_type", wrong_type("a whole number")),
        },
        QuestionType::Number | QuestionType::DurationSeconds => match value.as_f64() {
            Some(v) if v.is_finite() => {
                if q.kind == QuestionType::DurationSeconds && v < 0.0 {
                    push(
                        vp.into(),
                        "out_of_range",
                        "a duration is 0 seconds or more".into(),
                    );
                }
                if q.min.is_some_and(|m| v < m) || q.max.is_some_and(|m| v > m) {
                    push(
                        vp.into(),
                        "out_of_range",
                        format!("`{}` is out of its range", q.key),
                    );
                }
            }
            _ => push(vp.into(), "invalid_type", wrong_type("a number")),
        },
        QuestionType::SingleChoice => match value.as_str() {
            Some(v) if is_option(q, v) => {}
            Some(v) => push(
                vp.into(),
                "unknown_option",
                format!("`{v}` is not an option of `{}`", q.key),
            ),
            None => push(vp.into(), "invalid_type", wrong_type("one option value")),
        },
        QuestionType::MultiChoice => match value.as_array() {
            Some(chosen) => {
                let mut seen = HashSet::new();
                for (j, c) in chosen.iter().enumerate() {
                    match c.as_str() {
                        Some(v) if !is_option(q, v) => push(
                            format!("{vp}/{j}"),
                            "unknown_option",
                            format!("`{v}` is not an option of `{}`", q.key),
                        ),
                        Some(v) if !seen.insert(v) => push(
                            format!("{vp}/{j}"),
                            "duplicate_option",
                            format!("`{v}` is chosen twice"),
                        ),
                        Some(_) => {}
                        None => push(
                            format!("{vp}/{j}"),
                            "invalid_type",
                            "an option value is a string".into(),
                        ),
                    }
                }
            }
            None => push(
                vp.into(),
                "invalid_type",
                wrong_type("a list of option values"),
            ),
        },
        QuestionType::Text => match value.as_str() {
            Some(v) if chars(v) > q.text_limit() as usize => push(
                vp.into(),
                "too_long",
                format!("`{}` has at most {} characters", q.key, q.text_limit()),
            ),
            Some(_) => {}
            None => push(vp.into(), "invalid_type", wrong_type("text")),
        },
        QuestionType::Photo => match value.as_str() {
            Some(v) if v.is_empty() || chars(v) > MAX_PHOTO_REF_CHARS => push(
                vp.into(),
                "invalid_value",
                format!("a photo reference has 1 to {MAX_PHOTO_REF_CHARS} characters"),
            ),
            Some(_) => {}
            None => push(
                vp.into(),
                "invalid_type",
                wrong_type("a photo reference (string)"),
            ),
        },
    }
}

fn is_option(q: &Question, value: &str) -> bool {
    q.options
        .as_ref()
        .is_some_and(|o| o.iter().any(|o| o.value == value))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, FixedOffset};
    use serde_json::json;

    use super::*;
    use crate::ids::{LocationId, OrgId, QuestionnaireId, ReportId};
    use crate::locations::model::LocationFields;
    use crate::questionnaires::model::tests::example;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn at(rfc3339: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap()
    }

    fn location() -> Location {
        Location {
            id: LocationId::generate(),
            org_id: OrgId::generate(),
            fields: LocationFields {
                code: "S-1".into(),
                name: "Chiado".into(),
                address_lines: vec![],
                city: None,
                postal_code: None,
                country: None,
                region: None,
                timezone: chrono_tz::Europe::Lisbon,
                latitude: Some(38.7111),
                longitude: Some(-9.1421),
                tags: vec![],
            },
            active: true,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn questionnaire(status: Status) -> Questionnaire {
        Questionnaire {
            id: QuestionnaireId::generate(),
            org_id: OrgId::generate(),
            key: "store-visit".into(),
            version: 1,
            status,
            content: example(),
            created_at: now(),
            updated_at: now(),
            published_at: None,
            retired_at: None,
        }
    }

    /// A complete first-mile visit to the example questionnaire, an hour before `now()`.
    fn submission() -> ReportSubmission {
        serde_json::from_value(json!({
            "id": ReportId::generate(),
            "location_id": LocationId::generate(),
            "questionnaire_id": QuestionnaireId::generate(),
            "visit": {"started_at": "2026-11-20T11:00:00+00:00", "ended_at": "2026-11-20T11:17:00+00:00"},
            "answers": [
                {"question": "greeted", "value": true},
                {"question": "eye_contact", "value": true},
                {"question": "smiled", "value": true},
                {"question": "on_phone", "value": false},
                {"question": "courtesy", "value": 5},
                {"question": "appearance", "value": true},
                {"question": "wait_time", "value": 95},
                {"question": "had_issue", "value": "no"},
                {"question": "purchase_smooth", "value": true},
                {"question": "clean_inside", "value": 4},
                {"question": "clean_outside", "value": true},
                {"question": "remembered_name", "value": false},
                {"question": "unexpressed_need", "value": false},
                {"question": "companion", "value": "alone"},
                {"question": "follow_up", "value": false},
                {"question": "beyond_task", "value": false},
                {"question": "highlights", "value": "Quick, friendly service."}
            ]
        }))
        .unwrap()
    }

    /// The (pointer, code) of every violation of `sub` against a published example at an
    /// active location.
    fn violations(sub: &ReportSubmission) -> Vec<(String, String)> {
        let (location, questionnaire) = (location(), questionnaire(Status::Published));
        let ctx = Context {
            now: now(),
            max_age_days: 90,
            checkin_radius_m: 500.0,
            location: Some(&location),
            questionnaire: Some(&questionnaire),
        };
        validate(sub, &ctx)
            .into_iter()
            .map(|v| (v.pointer, v.code))
            .collect()
    }

    /// Replaces the answer to `question` with `answer` (its other fields).
    fn answer(sub: &mut ReportSubmission, question: &str, mut answer: serde_json::Value) {
        answer["question"] = json!(question);
        let slot = sub
            .answers
            .iter_mut()
            .find(|a| a.question == question)
            .unwrap();
        *slot = serde_json::from_value(answer).unwrap();
    }

    fn pair(pointer: &str, code: &str) -> (String, String) {
        (pointer.to_string(), code.to_string())
    }

    #[test]
    fn a_complete_visit_has_no_violation() {
        assert_eq!(violations(&submission()), vec![]);
    }

    #[test]
    fn a_report_names_at_most_twenty_files_each_once() {
        // A questionnaire with 21 optional photo questions, all answered with ids.
        let mut q = questionnaire(Status::Published);
        let photos: Vec<Question> = (0..21)
            .map(|i| {
                serde_json::from_value(json!({"key": format!("p{i}"), "text": "Photo", "type": "photo", "required": false}))
                    .unwrap()
            })
            .collect();
        q.content.sections[0].questions.extend(photos);
        let mut sub = submission();
        let ids: Vec<AttachmentId> = (0..21).map(|_| AttachmentId::generate()).collect();
        for (i, id) in ids.iter().enumerate() {
            sub.answers.push(
                serde_json::from_value(json!({"question": format!("p{i}"), "value": id})).unwrap(),
            );
        }
        let location = location();
        let ctx = Context {
            now: now(),
            max_age_days: 90,
            checkin_radius_m: 500.0,
            location: Some(&location),
            questionnaire: Some(&q),
        };
        let codes = |sub: &ReportSubmission| -> Vec<(String, String)> {
            validate(sub, &ctx)
                .into_iter()
                .map(|v| (v.pointer, v.code))
                .collect()
        };
        assert_eq!(codes(&sub), vec![pair("/answers", "too_many_attachments")]);
        assert_eq!(expected_files(&q.content, &sub).len(), 21);
        // Twenty is the limit; the same id twice is refused where it repeats.
        sub.answers.pop();
        assert_eq!(codes(&sub), vec![]);
        let last = sub.answers.len() - 1;
        sub.answers[last].value = Some(json!(ids[0]));
        assert_eq!(
            codes(&sub),
            vec![pair(
                &format!("/answers/{last}/value"),
                "duplicate_attachment"
            )]
        );
        // A text answer that looks like an id names no file.
        assert!(
            expected_files(&q.content, &submission())
                .iter()
                .all(|f| f.question.as_deref() == Some("storefront_photo"))
        );
    }

    #[test]
    fn the_location_and_questionnaire_must_exist_be_active_and_published() {
        let sub = submission();
        let inactive = Location {
            active: false,
            ..location()
        };
        let draft = questionnaire(Status::Draft);
        let codes = |location: Option<&Location>, questionnaire: Option<&Questionnaire>| {
            let ctx = Context {
                now: now(),
                max_age_days: 90,
                checkin_radius_m: 500.0,
                location,
                questionnaire,
            };
            validate(&sub, &ctx)
                .into_iter()
                .map(|v| v.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(None, None),
            ["unknown_location", "unknown_questionnaire"]
        );
        assert_eq!(
            codes(Some(&inactive), Some(&draft)),
            ["inactive_location", "not_published"]
        );
    }

    #[test]
    fn the_visit_must_be_ordered_recent_and_not_in_the_future() {
        let mut sub = submission();
        sub.visit.ended_at = at("2026-11-20T10:59:00+00:00");
        assert_eq!(violations(&sub), [pair("/visit/ended_at", "before_start")]);
        sub.visit.started_at = at("2026-11-20T12:30:00+00:00");
        sub.visit.ended_at = at("2026-11-20T12:40:00+00:00");
        assert!(violations(&sub).contains(&pair("/visit/started_at", "in_future")));
        sub.visit.started_at = at("2026-08-01T10:00:00+00:00");
        sub.visit.ended_at = at("2026-08-01T10:20:00+00:00");
        assert_eq!(violations(&sub), [pair("/visit/started_at", "too_old")]);
    }

    #[test]
    fn every_answer_rule_is_reported_at_its_pointer_all_at_once() {
        let mut sub = submission();
        answer(&mut sub, "greeted", json!({"na": true}));
        answer(&mut sub, "courtesy", json!({"value": 6}));
        answer(&mut sub, "smiled", json!({"value": "yes"}));
        answer(&mut sub, "companion", json!({"value": "dog"}));
        sub.answers.push(
            serde_json::from_value(json!({"question": "favourite_colour", "value": "blue"}))
                .unwrap(),
        );
        let found = violations(&sub);
        for expected in [
            pair("/answers/0/na", "na_not_allowed"),
            pair("/answers/4/value", "out_of_range"),
            pair("/answers/2/value", "invalid_type"),
            pair("/answers/13/value", "unknown_option"),
            pair("/answers/17/question", "unknown_question"),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
        assert_eq!(found.len(), 5, "{found:?}");
    }

    #[test]
    fn a_required_visible_question_must_be_answered() {
        let mut sub = submission();
        sub.answers.retain(|a| a.question != "greeted");
        let found = violations(&sub);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "missing_answer");
    }
}
