//! Scoring a visit report against its questionnaire version: points per question, section
//! and tier scores, critical failures and the mile level. Pure and deterministic: the same
//! version and answers always give the same score, whatever the order of the answers.
//!
//! Rules (DESIGN.md section 2):
//! - A question earns `weight × fraction`, where the fraction depends on its type (yes/no:
//!   1 when the answer is the expected one; scale: position between min and max; choice:
//!   chosen points over the best possible; duration: 1 at or under the target; number: 1 at
//!   or above the target). Its possible points are its weight, except for bonus questions,
//!   whose possible points are 0 (they can only raise a score).
//! - Hidden questions (`show_if` not met), N/A answers and unanswered questions leave both
//!   earned and possible points.
//! - A section's score is earned / possible (capped at 100 %); the overall score is the mean
//!   of the section scores weighted by section weight, over sections with possible points.
//! - The first- and second-tier scores are earned / possible over the questions of that tier.
//! - A critical question fails when it earns none of its points.
//! - Mile level: `zero` if a critical question failed or the first-tier score is below
//!   `first_mile_pass`; otherwise `second` if the second-tier score reaches
//!   `second_mile_pass`; otherwise `first`. A tier with no applicable question has no score:
//!   it cannot push a visit to zero, nor lift it to second.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::questionnaires::model::{Question, QuestionType, QuestionnaireContent, Tier};

/// One answer of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// Key of the question answered.
    #[schema(max_length = 64)]
    pub question: String,
    /// The answer: a boolean (`yes_no`), an integer (`scale`), a number (`number`,
    /// `duration_seconds`), an option value (`single_choice`), a list of option values
    /// (`multi_choice`) or a string (`text`, `photo`). Absent when `na` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<AnswerValue>)]
    pub value: Option<serde_json::Value>,
    /// "Not applicable" (where the question allows it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub na: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// The schema of an answer's value: a boolean, a number, a string or a list of strings,
/// depending on the question's type. Documented as a `oneOf` of those four so that generated
/// clients get a precise union type (`boolean | number | string | string[]`) rather than an
/// untyped value; the questionnaire says which one a question takes.
pub struct AnswerValue;

impl utoipa::PartialSchema for AnswerValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .description(Some(
                "`yes_no`: a boolean; `scale`: an integer; `number` and `duration_seconds`: a \
                 number; `single_choice`: an option value; `text` and `photo`: a string; \
                 `multi_choice`: a list of option values",
            ))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(
                ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .max_items(Some(50)),
            )
            .into()
    }
}

impl ToSchema for AnswerValue {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MileLevel {
    /// Below the basic standard.
    Zero,
    /// The expected standard.
    First,
    /// Beyond expectations.
    Second,
}

impl MileLevel {
    pub fn parse(s: &str) -> Option<Self> {
        [MileLevel::Zero, MileLevel::First, MileLevel::Second]
            .into_iter()
            .find(|level| level.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MileLevel::Zero => "zero",
            MileLevel::First => "first",
            MileLevel::Second => "second",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SectionScore {
    pub key: String,
    pub earned: f64,
    pub possible: f64,
    /// Percent, or `null` when nothing in the section counted.
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuestionScore {
    pub key: String,
    /// Whether the question counted (visible, scored, answered and not N/A).
    pub counted: bool,
    pub earned: f64,
    pub possible: f64,
}

/// The score of one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Score {
    /// Overall percent (0 to 100, two decimals), `null` when no question counted.
    pub overall: Option<f64>,
    /// First-tier percent over first-tier questions.
    pub first_tier: Option<f64>,
    /// Second-tier percent over second-tier questions.
    pub second_tier: Option<f64>,
    pub mile_level: MileLevel,
    /// Keys of the critical questions that failed.
    pub critical_failures: Vec<String>,
    pub sections: Vec<SectionScore>,
    pub questions: Vec<QuestionScore>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn percent(earned: f64, possible: f64) -> Option<f64> {
    (possible > 0.0).then(|| round2((earned / possible).min(1.0) * 100.0))
}

/// The fraction (0 to 1) of its points that `value` earns on `q`, or `None` when the value
/// does not fit the question (validation refuses such reports before they are scored).
fn fraction(q: &Question, value: &serde_json::Value) -> Option<f64> {
    let f = match q.kind {
        QuestionType::YesNo => {
            let expected = q.expected.unwrap_or(true);
            if value.as_bool()? == expected {
                1.0
            } else {
                0.0
            }
        }
        QuestionType::Scale => {
            let (min, max) = (q.min?, q.max?);
            let v = value.as_f64()?;
            if max <= min {
                return None;
            }
            ((v - min) / (max - min)).clamp(0.0, 1.0)
        }
        QuestionType::SingleChoice => {
            let options = q.options.as_ref()?;
            let best = options.iter().map(|o| o.points).fold(0.0_f64, f64::max);
            let chosen = options
                .iter()
                .find(|o| Some(o.value.as_str()) == value.as_str())?;
            if best <= 0.0 {
                return None;
            }
            (chosen.points / best).clamp(0.0, 1.0)
        }
        QuestionType::MultiChoice => {
            let options = q.options.as_ref()?;
            let total: f64 = options.iter().map(|o| o.points.max(0.0)).sum();
            let chosen = value.as_array()?;
            let mut earned = 0.0;
            for o in options {
                if chosen.iter().any(|c| c.as_str() == Some(o.value.as_str())) {
                    earned += o.points.max(0.0);
                }
            }
            if total <= 0.0 {
                return None;
            }
            (earned / total).clamp(0.0, 1.0)
        }
        QuestionType::DurationSeconds => {
            if value.as_f64()? <= q.target? {
                1.0
            } else {
                0.0
            }
        }
        QuestionType::Number => {
            if value.as_f64()? >= q.target? {
                1.0
            } else {
                0.0
            }
        }
        QuestionType::Text | QuestionType::Photo => return None,
    };
    f.is_finite().then_some(f)
}

/// Whether `q` is shown, given the answers and the visibility of earlier questions.
fn is_visible(
    q: &Question,
    answers: &HashMap<&str, &Answer>,
    visible: &HashMap<&str, bool>,
) -> bool {
    let Some(condition) = &q.show_if else {
        return true;
    };
    if !visible
        .get(condition.question.as_str())
        .copied()
        .unwrap_or(false)
    {
        return false;
    }
    let Some(answer) = answers.get(condition.question.as_str()) else {
        return false;
    };
    if answer.na {
        return false;
    }
    let Some(value) = &answer.value else {
        return false;
    };
    condition.equals.iter().any(|wanted| match value {
        serde_json::Value::Array(chosen) => chosen.contains(wanted),
        serde_json::Value::Number(n) => wanted.as_f64() == n.as_f64(),
        other => other == wanted,
    })
}

/// Which questions are shown for these answers (key → shown), in document order.
pub fn visibility<'a>(
    content: &'a QuestionnaireContent,
    answers: &[Answer],
) -> HashMap<&'a str, bool> {
    let by_key = index(answers);
    let mut visible = HashMap::new();
    for (_, q) in content.questions() {
        let shown = is_visible(q, &by_key, &visible);
        visible.insert(q.key.as_str(), shown);
    }
    visible
}

/// Answers by question key. With duplicate keys (refused by validation) the first wins.
fn index(answers: &[Answer]) -> HashMap<&str, &Answer> {
    let mut by_key = HashMap::new();
    for a in answers {
        by_key.entry(a.question.as_str()).or_insert(a);
    }
    by_key
}

#[derive(Default)]
struct Tally {
    earned: f64,
    possible: f64,
}

/// Scores `answers` against `content`.
pub fn score(content: &QuestionnaireContent, answers: &[Answer]) -> Score {
    let by_key = index(answers);
    let mut visible: HashMap<&str, bool> = HashMap::new();
    let mut sections: Vec<Tally> = content.sections.iter().map(|_| Tally::default()).collect();
    let (mut first, mut second) = (Tally::default(), Tally::default());
    let mut critical_failures = Vec::new();
    let mut questions = Vec::new();

    for (si, q) in content.questions() {
        let shown = is_visible(q, &by_key, &visible);
        visible.insert(q.key.as_str(), shown);
        let counted = shown && q.is_scored();
        let f = by_key
            .get(q.key.as_str())
            .filter(|a| counted && !a.na)
            .and_then(|a| a.value.as_ref())
            .and_then(|v| fraction(q, v));
        let Some(f) = f else {
            questions.push(QuestionScore {
                key: q.key.clone(),
                counted: false,
                earned: 0.0,
                possible: 0.0,
            });
            continue;
        };
        let earned = q.weight * f;
        let possible = if q.bonus { 0.0 } else { q.weight };
        if let Some(section) = sections.get_mut(si) {
            section.earned += earned;
            section.possible += possible;
        }
        match q.tier {
            Some(Tier::First) => {
                first.earned += earned;
                first.possible += possible;
            }
            Some(Tier::Second) => {
                second.earned += earned;
                second.possible += possible;
            }
            None => {}
        }
        if q.critical && f <= 0.0 {
            critical_failures.push(q.key.clone());
        }
        questions.push(QuestionScore {
            key: q.key.clone(),
            counted: true,
            earned: round2(earned),
            possible: round2(possible),
        });
    }

    let section_scores: Vec<SectionScore> = content
        .sections
        .iter()
        .zip(&sections)
        .map(|(s, t)| SectionScore {
            key: s.key.clone(),
            earned: round2(t.earned),
            possible: round2(t.possible),
            score: percent(t.earned, t.possible),
        })
        .collect();

    let (mut weighted, mut weights) = (0.0, 0.0);
    for (s, t) in content.sections.iter().zip(&sections) {
        if t.possible > 0.0 {
            weighted += s.weight * (t.earned / t.possible).min(1.0);
            weights += s.weight;
        }
    }
    let overall = (weights > 0.0).then(|| round2(weighted / weights * 100.0));
    let first_tier = percent(first.earned, first.possible);
    let second_tier = percent(second.earned, second.possible);
    let mile_level = mile_level(
        content,
        first_tier,
        second_tier,
        !critical_failures.is_empty(),
    );

    Score {
        overall,
        first_tier,
        second_tier,
        mile_level,
        critical_failures,
        sections: section_scores,
        questions,
    }
}

fn mile_level(
    content: &QuestionnaireContent,
    first_tier: Option<f64>,
    second_tier: Option<f64>,
    critical_failed: bool,
) -> MileLevel {
    let below_first = first_tier.is_some_and(|s| s < f64::from(content.first_mile_pass));
    if critical_failed || below_first {
        return MileLevel::Zero;
    }
    if second_tier.is_some_and(|s| s >= f64::from(content.second_mile_pass)) {
        return MileLevel::Second;
    }
    MileLevel::First
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaires::model::tests::example;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn a(question: &str, value: Value) -> Answer {
        Answer {
            question: question.into(),
            value: Some(value),
            na: false,
            comment: None,
        }
    }

    fn na(question: &str) -> Answer {
        Answer {
            question: question.into(),
            value: None,
            na: true,
            comment: None,
        }
    }

    /// A visit that meets the standard and nothing more.
    fn first_mile_visit() -> Vec<Answer> {
        vec![
            a("greeted", json!(true)),
            a("eye_contact", json!(true)),
            a("smiled", json!(true)),
            a("on_phone", json!(false)),
            a("courtesy", json!(5)),
            a("appearance", json!(true)),
            a("wait_time", json!(95)),
            a("had_issue", json!("no")),
            a("purchase_smooth", json!(true)),
            a("clean_inside", json!(4)),
            a("clean_outside", json!(true)),
            a("remembered_name", json!(false)),
            a("unexpressed_need", json!(false)),
            a("companion", json!("alone")),
            a("follow_up", json!(false)),
            a("beyond_task", json!(false)),
        ]
    }

    #[test]
    fn a_visit_at_the_standard_is_first_mile() {
        let s = score(&example(), &first_mile_visit());
        assert_eq!(s.mile_level, MileLevel::First);
        assert!(s.critical_failures.is_empty());
        // First tier: 2+1+1+1 + 2 + 1+1+1 + 0.75 + 1 = 11.75 of 12.
        assert_eq!(s.first_tier, Some(97.92));
        assert_eq!(s.second_tier, Some(0.0));
        // Arrival 5/5, service 5/5 (protocol hidden), premises 1.75/2, second mile 0/4
        // (the bonus adds no possible points); weighted (2·1 + 3·1 + 1·0.875 + 2·0) / 8.
        assert_eq!(s.sections[2].score, Some(87.5));
        assert_eq!(s.sections[3].possible, 4.0);
        assert_eq!(
            s.sections[4].score, None,
            "the notes section has nothing to score"
        );
        assert_eq!(s.overall, Some(73.44));
    }

    #[test]
    fn care_beyond_expectations_makes_second_mile() {
        let mut answers = first_mile_visit();
        for answer in &mut answers {
            match answer.question.as_str() {
                "unexpressed_need" | "remembered_name" => answer.value = Some(json!(true)),
                _ => {}
            }
        }
        let s = score(&example(), &answers);
        assert_eq!(s.second_tier, Some(75.0));
        assert_eq!(s.mile_level, MileLevel::Second);
    }

    #[test]
    fn a_failed_critical_question_is_zero_mile_whatever_else_happened() {
        let mut answers = first_mile_visit();
        for answer in &mut answers {
            match answer.question.as_str() {
                "on_phone" => answer.value = Some(json!(true)),
                "unexpressed_need" | "remembered_name" | "beyond_task" | "follow_up" => {
                    answer.value = Some(json!(true))
                }
                _ => {}
            }
        }
        let s = score(&example(), &answers);
        assert_eq!(s.critical_failures, vec!["on_phone".to_string()]);
        assert_eq!(s.mile_level, MileLevel::Zero);
        assert!(
            s.first_tier.unwrap() >= 80.0,
            "the bonus does not buy it back"
        );
    }

    #[test]
    fn a_low_first_tier_score_is_zero_mile() {
        let mut answers = first_mile_visit();
        for answer in &mut answers {
            match answer.question.as_str() {
                "eye_contact" | "smiled" | "appearance" => answer.value = Some(json!(false)),
                "courtesy" => answer.value = Some(json!(2)),
                _ => {}
            }
        }
        let s = score(&example(), &answers);
        assert!(s.critical_failures.is_empty());
        assert!(s.first_tier.unwrap() < 80.0, "{:?}", s.first_tier);
        assert_eq!(s.mile_level, MileLevel::Zero);
    }

    #[test]
    fn hidden_questions_and_na_answers_leave_the_score() {
        let content = example();
        let base = score(&content, &first_mile_visit());
        // `protocol` is shown only after a complaint; answered while hidden, it does not count.
        let mut answers = first_mile_visit();
        answers.push(a("protocol", json!("not")));
        assert_eq!(score(&content, &answers), base);
        // Shown, it counts: 0 of 2 points in the first tier.
        for answer in &mut answers {
            if answer.question == "had_issue" {
                answer.value = Some(json!("yes"));
            }
        }
        let shown = score(&content, &answers);
        assert_eq!(shown.sections[1].possible, base.sections[1].possible + 2.0);
        // N/A removes the question's possible points.
        let mut answers = first_mile_visit();
        answers.retain(|a| a.question != "clean_outside");
        answers.push(na("clean_outside"));
        let s = score(&content, &answers);
        assert_eq!(s.sections[2].possible, 1.0);
        assert_eq!(s.sections[2].score, Some(75.0));
    }

    #[test]
    fn a_choice_of_companion_shows_the_personal_touch_question() {
        let mut answers = first_mile_visit();
        answers.retain(|a| a.question != "companion");
        answers.push(a("companion", json!("child")));
        answers.push(a("personal_touch", json!(true)));
        let s = score(&example(), &answers);
        // Second tier now 2 of 5 (remembered 0/1, need 0/2, touch 1/1, follow-up 0/1).
        assert_eq!(s.second_tier, Some(20.0));
    }

    // ------------------------------------------------------------ properties

    /// Random answers for the example: each question answered with a random value of its
    /// type, N/A (where allowed) or left out.
    fn arbitrary_answers() -> impl Strategy<Value = Vec<Answer>> {
        let content = example();
        let per_question: Vec<BoxedStrategy<Option<Answer>>> = content
            .questions()
            .map(|(_, q)| {
                let key = q.key.clone();
                let value: BoxedStrategy<Value> = match q.kind {
                    QuestionType::YesNo => any::<bool>().prop_map(Value::from).boxed(),
                    QuestionType::Scale => {
                        let (min, max) = (q.min.unwrap() as i64, q.max.unwrap() as i64);
                        (min..=max).prop_map(Value::from).boxed()
                    }
                    QuestionType::SingleChoice => {
                        let values: Vec<Value> = q
                            .options
                            .as_ref()
                            .unwrap()
                            .iter()
                            .map(|o| json!(o.value))
                            .collect();
                        proptest::sample::select(values).boxed()
                    }
                    QuestionType::DurationSeconds => (0u32..600).prop_map(Value::from).boxed(),
                    _ => Just(json!("free text")).boxed(),
                };
                let na_allowed = q.na_allowed;
                (0u8..10, value)
                    .prop_map(move |(roll, value)| match roll {
                        0 => None,
                        1 if na_allowed => Some(na(&key)),
                        _ => Some(a(&key, value)),
                    })
                    .boxed()
            })
            .collect();
        per_question.prop_map(|answers| answers.into_iter().flatten().collect())
    }

    fn in_range(x: Option<f64>) -> bool {
        x.is_none_or(|x| (0.0..=100.0).contains(&x))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn scores_stay_within_0_and_100(answers in arbitrary_answers()) {
            let s = score(&example(), &answers);
            prop_assert!(in_range(s.overall) && in_range(s.first_tier) && in_range(s.second_tier));
            for section in &s.sections {
                prop_assert!(in_range(section.score));
                prop_assert!(section.earned >= 0.0 && section.possible >= 0.0);
            }
        }

        #[test]
        fn the_order_of_answers_does_not_matter(answers in arbitrary_answers(), seed in any::<u64>()) {
            let content = example();
            let mut shuffled = answers.clone();
            // A deterministic shuffle driven by the seed.
            let n = shuffled.len();
            let mut state = seed | 1;
            for i in (1..n).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(score(&content, &answers), score(&content, &shuffled));
        }

        #[test]
        fn the_same_input_gives_the_same_output(answers in arbitrary_answers()) {
            let content = example();
            prop_assert_eq!(score(&content, &answers), score(&content, &answers));
        }

        #[test]
        fn na_never_adds_possible_points(answers in arbitrary_answers(), pick in any::<proptest::sample::Index>()) {
            let content = example();
            let before = score(&content, &answers);
            let answered: Vec<&Answer> = answers.iter().filter(|a| !a.na && a.value.is_some()).collect();
            prop_assume!(!answered.is_empty());
            let target = answered[pick.index(answered.len())].question.clone();
            let with_na: Vec<Answer> = answers
                .iter()
                .map(|a| if a.question == target { na(&target) } else { a.clone() })
                .collect();
            let after = score(&content, &with_na);
            for (b, a) in before.sections.iter().zip(&after.sections) {
                prop_assert!(a.possible <= b.possible);
            }
        }

        #[test]
        fn a_bonus_never_lowers_a_score_nor_adds_possible_points(answers in arbitrary_answers()) {
            let content = example();
            let without: Vec<Answer> = answers.iter().filter(|a| a.question != "beyond_task").cloned().collect();
            let mut with = without.clone();
            with.push(a("beyond_task", json!(true)));
            let (s0, s1) = (score(&content, &without), score(&content, &with));
            prop_assert!(s1.overall.unwrap_or(0.0) >= s0.overall.unwrap_or(0.0));
            prop_assert!(s1.second_tier.unwrap_or(0.0) >= s0.second_tier.unwrap_or(0.0));
            for (x, y) in s0.sections.iter().zip(&s1.sections) {
                prop_assert_eq!(x.possible, y.possible);
            }
        }

        #[test]
        fn a_failed_critical_question_always_means_zero_mile(answers in arbitrary_answers()) {
            let content = example();
            let mut failing: Vec<Answer> = answers.iter().filter(|a| a.question != "greeted").cloned().collect();
            failing.push(a("greeted", json!(false)));
            let s = score(&content, &failing);
            prop_assert_eq!(s.mile_level, MileLevel::Zero);
            prop_assert!(s.critical_failures.contains(&"greeted".to_string()));
        }

        #[test]
        fn mile_levels_follow_the_thresholds(answers in arbitrary_answers()) {
            let content = example();
            let s = score(&content, &answers);
            let zero = !s.critical_failures.is_empty() || s.first_tier.is_some_and(|f| f < 80.0);
            let expected = if zero {
                MileLevel::Zero
            } else if s.second_tier.is_some_and(|t| t >= 50.0) {
                MileLevel::Second
            } else {
                MileLevel::First
            };
            prop_assert_eq!(s.mile_level, expected);
        }
    }
}
