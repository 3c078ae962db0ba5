//! Believable answers to any questionnaire, from a visit's chances ([`Quality`]) and a
//! seeded random source: pure, so one seed always gives the same reports.

use rand::Rng;

use super::world::Quality;
use crate::questionnaires::model::{QuestionType, QuestionnaireContent, Tier};
use crate::reports::scoring::{self, Answer};

/// How often a question that allows it is answered "not applicable".
const NA_RATE: f64 = 0.08;

/// Answers `content` for one visit: shown questions only (a hidden one is left out, as the
/// app would), N/A where allowed now and then, the free-text highlights from `highlight`.
pub fn answers(
    content: &QuestionnaireContent,
    quality: Quality,
    highlight: Option<&str>,
    rng: &mut impl Rng,
) -> Vec<Answer> {
    let mut answers: Vec<Answer> = Vec::new();
    for (_, q) in content.questions() {
        let shown = scoring::visibility(content, &answers)
            .get(q.key.as_str())
            .copied()
            .unwrap_or(true);
        if !shown {
            continue;
        }
        let answer = |value: serde_json::Value| Answer {
            question: q.key.clone(),
            value: Some(value),
            na: false,
            comment: None,
        };
        if q.na_allowed && rng.random_bool(NA_RATE) {
            answers.push(Answer {
                question: q.key.clone(),
                value: None,
                na: true,
                comment: None,
            });
            continue;
        }
        let good = if q.critical {
            !rng.random_bool(quality.critical_miss.clamp(0.0, 1.0))
        } else if q.tier == Some(Tier::Second) {
            rng.random_bool(quality.second.clamp(0.0, 1.0))
        } else {
            rng.random_bool(quality.first.clamp(0.0, 1.0))
        };
        let value = match q.kind {
            QuestionType::Text => match highlight {
                Some(text) => serde_json::json!(text),
                None if q.required => serde_json::json!("Nothing to add."),
                None => continue,
            },
            QuestionType::Photo => {
                if !q.required && rng.random_bool(0.5) {
                    continue;
                }
                serde_json::json!(format!("photo-{:08x}.jpg", rng.random::<u32>()))
            }
            QuestionType::YesNo => {
                let expected = q.expected.unwrap_or(true);
                serde_json::json!(if good { expected } else { !expected })
            }
            QuestionType::Scale => {
                let (min, max) = (q.min.unwrap_or(1.0) as i64, q.max.unwrap_or(5.0) as i64);
                let mid = (min + max) / 2;
                let v = if good {
                    if rng.random_bool(0.7) {
                        max
                    } else {
                        (max - 1).max(min)
                    }
                } else {
                    rng.random_range(min..=mid.max(min))
                };
                serde_json::json!(v)
            }
            QuestionType::DurationSeconds | QuestionType::Number => {
                let target = q.target.unwrap_or(120.0);
                let below = q.kind == QuestionType::DurationSeconds;
                let (low, high) = if good == below {
                    (0.2 * target, 0.95 * target)
                } else {
                    (1.2 * target, 3.0 * target)
                };
                serde_json::json!(rng.random_range(low..high).round())
            }
            QuestionType::SingleChoice => {
                let options = q.options.as_deref().unwrap_or_default();
                if options.is_empty() {
                    continue;
                }
                let pick = if !q.is_scored() {
                    // Informational: the first option (a complaint, a companion) is the rarer.
                    if options.len() > 1 && !rng.random_bool(0.2) {
                        rng.random_range(1..options.len())
                    } else {
                        0
                    }
                } else {
                    let best = options
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.points.total_cmp(&b.1.points))
                        .map_or(0, |(i, _)| i);
                    if good || options.len() == 1 {
                        best
                    } else {
                        let other = rng.random_range(0..options.len() - 1);
                        if other >= best { other + 1 } else { other }
                    }
                };
                serde_json::json!(options.get(pick).map(|o| o.value.clone()))
            }
            QuestionType::MultiChoice => {
                let options = q.options.as_deref().unwrap_or_default();
                let chosen: Vec<&str> = options
                    .iter()
                    .filter(|o| (o.points > 0.0) == good)
                    .map(|o| o.value.as_str())
                    .collect();
                serde_json::json!(chosen)
            }
        };
        answers.push(answer(value));
    }
    answers
}

/// A returned report corrected: the first first-tier answer that missed the standard now
/// meets it (a shopper who re-checked their notes), everything else as it was.
pub fn corrected(content: &QuestionnaireContent, answers: &[Answer]) -> Vec<Answer> {
    let mut out = answers.to_vec();
    let score = scoring::score(content, answers);
    let missed = score
        .questions
        .iter()
        .find(|s| s.counted && s.earned < s.possible && !s.key.is_empty())
        .map(|s| s.key.clone());
    let Some(key) = missed else {
        return out;
    };
    let Some(q) = content.question(&key) else {
        return out;
    };
    if q.tier == Some(Tier::Second) || q.critical {
        return out;
    }
    let better = match q.kind {
        QuestionType::YesNo => Some(serde_json::json!(q.expected.unwrap_or(true))),
        QuestionType::Scale => Some(serde_json::json!(q.max.unwrap_or(5.0) as i64)),
        QuestionType::DurationSeconds => {
            Some(serde_json::json!((q.target.unwrap_or(120.0) * 0.5).round()))
        }
        _ => None,
    };
    if let (Some(value), Some(a)) = (better, out.iter_mut().find(|a| a.question == key)) {
        a.value = Some(value);
        a.na = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::super::world::Profile;
    use super::*;
    use crate::reports::scoring::MileLevel;

    fn example() -> QuestionnaireContent {
        crate::questionnaires::model::tests::example()
    }

    fn levels(quality: Quality, seed: u64) -> Vec<MileLevel> {
        let content = example();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..200)
            .map(|_| {
                scoring::score(&content, &answers(&content, quality, None, &mut rng)).mile_level
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_answers() {
        let q = Quality {
            first: 0.9,
            second: 0.3,
            critical_miss: 0.02,
        };
        assert_eq!(levels(q, 7), levels(q, 7));
        assert_ne!(levels(q, 7), levels(q, 8));
    }

    #[test]
    fn stars_are_second_mile_and_problem_sites_often_zero() {
        let count = |levels: &[MileLevel], l: MileLevel| levels.iter().filter(|x| **x == l).count();
        let star = levels(Profile::Star.quality(0.5), 1);
        assert!(count(&star, MileLevel::Second) > 150, "{star:?}");
        assert!(count(&star, MileLevel::Zero) <= 1, "{star:?}");
        let problem = levels(Profile::Problem.quality(0.5), 1);
        assert!(count(&problem, MileLevel::Zero) > 40, "{problem:?}");
        let steady = levels(Profile::Steady(0.0).quality(0.5), 1);
        assert!(count(&steady, MileLevel::First) > 100, "{steady:?}");
    }

    #[test]
    fn generated_answers_pass_validation_shapes_and_leave_hidden_questions_out() {
        let content = example();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..100 {
            let a = answers(
                &content,
                Profile::Steady(0.0).quality(0.0),
                Some("fine"),
                &mut rng,
            );
            let shown = scoring::visibility(&content, &a);
            assert!(a.iter().all(|x| shown[x.question.as_str()]));
        }
    }
}
