//! A report's plausibility as stored in its document.

use serde::{Deserialize, Serialize};

use crate::reports::reasons as r;

#[derive(Serialize, Deserialize)]
pub(super) struct Plausible {
    score: u8,
    #[serde(default)]
    reasons: Vec<Reason>,
}

#[derive(Serialize, Deserialize)]
struct Reason {
    code: String,
    #[serde(default)]
    penalty: u8,
    #[serde(default)]
    message: String,
}

impl From<&r::Plausibility> for Plausible {
    fn from(p: &r::Plausibility) -> Self {
        Plausible {
            score: p.score,
            reasons: p
                .reasons
                .iter()
                .map(|x| Reason {
                    code: x.code.as_str().to_string(),
                    penalty: x.penalty,
                    message: x.message.clone(),
                })
                .collect(),
        }
    }
}

impl Plausible {
    /// The score stays as assessed; a reason this version does not know is left out (it
    /// only informed reviewers).
    pub(super) fn into_model(self) -> r::Plausibility {
        r::Plausibility {
            score: self.score.min(100),
            reasons: self
                .reasons
                .into_iter()
                .filter_map(|x| {
                    Some(r::Reason {
                        code: r::ReasonCode::parse(&x.code)?,
                        penalty: x.penalty,
                        message: x.message,
                    })
                })
                .collect(),
        }
    }
}
