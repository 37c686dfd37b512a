//! The one list of detectors. A detector's contract lives here and nowhere else: its name, its
//! parameter struct (whose `Default` holds every default, and which rejects unknown keys), the
//! function that runs it, and the line the README's table shows. Parameters are parsed when
//! the rubric loads, so a typo, a missing lexicon or `nan` is a `file:line` error before any
//! call is scored, never a detector that silently finds nothing.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{dialogue, lexicon, opening, sales, timing, Call, Signal};
use crate::Role;

/// Who a lexicon rule listens to. Closed: a misspelt role is an error, never "agent".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    #[default]
    Agent,
    Customer,
    Any,
}

impl Speaker {
    pub fn role(self) -> Option<Role> {
        match self {
            Speaker::Agent => Some(Role::Agent),
            Speaker::Customer => Some(Role::Customer),
            Speaker::Any => None,
        }
    }
}

/// What a parameter struct tells the loader beyond its fields.
pub trait Params: Serialize + DeserializeOwned + Default + Clone + std::fmt::Debug {
    /// Lexicon names it refers to, so `callqa check` can tell a misspelt list from one that
    /// merely found nothing.
    fn lexicons(&self) -> Vec<String>;
    /// Values out of range, as "key: what is allowed".
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Why a rule's detector or parameters were rejected; the loader adds the file and line.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    #[error("unknown detector {:?}; use one of {}", .0, names().join(", "))]
    UnknownDetector(String),
    #[error("detector {detector}: {message}; it takes {}", keys.join(", "))]
    Invalid {
        detector: &'static str,
        message: String,
        keys: Vec<String>,
    },
}

/// One row of the README's detector table.
#[derive(Clone, Debug)]
pub struct DetectorDoc {
    pub name: &'static str,
    /// Parameter names with their default values, as TOML.
    pub params: Vec<(String, String)>,
    pub what: &'static str,
}

fn keys_of<P: Params>() -> Vec<(String, String)> {
    match toml::Table::try_from(P::default()) {
        Ok(t) => t.into_iter().map(|(k, v)| (k, v.to_string())).collect(),
        Err(_) => Vec::new(),
    }
}

/// Every float in the table (nested too) must be finite: `nan` and `inf` parse as TOML floats.
fn finite(value: &toml::Value) -> bool {
    match value {
        toml::Value::Float(f) => f.is_finite(),
        toml::Value::Array(a) => a.iter().all(finite),
        toml::Value::Table(t) => t.values().all(finite),
        _ => true,
    }
}

fn parse_params<P: Params>(name: &'static str, params: &toml::Table) -> Result<P, ParamError> {
    let invalid = |message: String| ParamError::Invalid {
        detector: name,
        message,
        keys: keys_of::<P>().into_iter().map(|(k, _)| k).collect(),
    };
    if let Some((key, _)) = params.iter().find(|(_, v)| !finite(v)) {
        return Err(invalid(format!("{key} must be a finite number")));
    }
    let p: P = toml::Value::Table(params.clone())
        .try_into()
        .map_err(|e: toml::de::Error| invalid(e.message().trim().to_string()))?;
    p.validate().map_err(invalid)?;
    Ok(p)
}

macro_rules! registry {
    ($( $name:literal => $variant:ident($ty:ty) = $run:path, $what:literal; )*) => {
        /// A rubric rule's detector with its parsed parameters.
        #[derive(Clone, Debug)]
        pub enum Detector {
            $( $variant($ty), )*
        }

        /// Every detector name, in the README's order.
        pub fn names() -> Vec<&'static str> {
            vec![$( $name ),*]
        }

        /// The README's table, from the same list as the dispatch.
        pub fn docs() -> Vec<DetectorDoc> {
            vec![$( DetectorDoc { name: $name, params: keys_of::<$ty>(), what: $what } ),*]
        }

        impl Detector {
            /// Parses `params` for detector `name`: unknown keys, wrong types, values out of
            /// range and unknown detectors are errors.
            pub fn parse(name: &str, params: &toml::Table) -> Result<Detector, ParamError> {
                match name {
                    $( $name => Ok(Detector::$variant(parse_params::<$ty>($name, params)?)), )*
                    other => Err(ParamError::UnknownDetector(other.to_string())),
                }
            }

            pub fn name(&self) -> &'static str {
                match self {
                    $( Detector::$variant(_) => $name, )*
                }
            }

            pub fn lexicons(&self) -> Vec<String> {
                match self {
                    $( Detector::$variant(p) => p.lexicons(), )*
                }
            }

            /// Runs it on one call.
            pub fn run(&self, call: &Call<'_>) -> Vec<Signal> {
                match self {
                    $( Detector::$variant(p) => $run(call, p), )*
                }
            }
        }
    };
}

registry! {
    "opening_latency" => OpeningLatency(opening::OpeningLatency) = opening::opening_latency,
        "the 开头语 (lexicon hit or similarity to a standard text) starting later than `within_ms`, or not said; the customer saying 喂 `hello_count` times before the agent speaks";
    "no_agent_speech" => NoAgentSpeech(opening::NoAgentSpeech) = opening::no_agent_speech,
        "the agent never speaks";
    "dead_air" => DeadAir(timing::DeadAir) = timing::dead_air,
        "both channels silent for `min_silence_ms` (voice activity) with nobody having asked to wait (`request` lexicon, either party) and the agent not waiting on its own question";
    "unanswered_question" => UnansweredQuestion(timing::UnansweredQuestion) = timing::unanswered_question,
        "a customer question followed by agent silence (voice activity) of `min_silence_ms`, with `until_end` lasting until the call ends";
    "ignored_until_end" => IgnoredUntilEnd(timing::IgnoredUntilEnd) = timing::ignored_until_end,
        "the agent silent (voice activity) for the last `min_silence_ms` of the call or more, after having spoken";
    "greeting_for_day" => GreetingForDay(opening::GreetingForDay) = opening::greeting_for_day,
        "no holiday/weekend greeting from `calendars/` in the opening; otherwise before `morning_before_hour`, no 早上好 before the 欢迎语";
    "opening_closing" => OpeningClosing(opening::OpeningClosing) = opening::opening_closing,
        "opening missing a required part (`opening_parts`; the day's holiday greeting stands in for 您好) or unlike the standard; closing missing `closing_parts` or unlike the standard in the last `last_turns` turns; `steps` lexicons missing or out of order (review)";
    "hold_etiquette" => HoldEtiquette(timing::HoldEtiquette) = timing::hold_etiquette,
        "a hold (agent silent ≥ `min_hold_ms` after asking to wait, customer mostly silent) without the polite `before` wording or the `after` thanks; a customer's thanks not answered with `welcome` (review)";
    "lexicon_hits" => LexiconHits(LexiconHits) = lexicon::lexicon_hits,
        "each hit of the lexicons by that role, once there are `min_count`";
    "lexicon_rate" => LexiconRate(LexiconRate) = lexicon::lexicon_rate,
        "hits per agent minute above the rate";
    "missing_response" => MissingResponse(dialogue::MissingResponse) = dialogue::missing_response,
        "a `trigger` hit by `trigger_role` not followed within `within_ms` by an agent hit of `require`";
    "no_address" => NoAddress(dialogue::NoAddress) = dialogue::no_address,
        "the agent neither asks the surname (`lexicon`) nor addresses the customer as X先生/X女士 (`titles`)";
    "cannot_hear" => CannotHear(dialogue::CannotHear) = dialogue::cannot_hear,
        "the agent says it cannot hear / asks to redial (`lexicon`) while the customer channel carried at least `min_customer_speech_ms` of speech in the `look_ms` before";
    "speech_rate" => SpeechRate(timing::SpeechRate) = timing::speech_rate,
        "agent characters per second out of range, or too uneven";
    "interruptions" => Interruptions(timing::Interruptions) = timing::interruptions,
        "agent starting inside customer speech, back-channels excluded";
    "personal_numbers" => PersonalNumbers(PersonalNumbers) = lexicon::personal_numbers,
        "agent speaking a mobile, ID-card or bank-card number";
    "fee_disclosure" => FeeDisclosure(sales::FeeDisclosure) = sales::fee_disclosure,
        "an offer (`offer` hit or a product keyword) without every lexicon its product requires (`products`, else `require`)";
    "order_without_consent" => OrderWithoutConsent(sales::OrderWithoutConsent) = sales::order_without_consent,
        "ordering language unless the customer's last turn before it consents (a `consent` word not negated) without refusing";
}

/// Parameters of `lexicon_hits` (declared here so `lexicon.rs` keeps only the matching).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LexiconHits {
    pub categories: Vec<String>,
    pub role: Speaker,
    pub min_count: u64,
}

impl Default for LexiconHits {
    fn default() -> Self {
        LexiconHits {
            categories: Vec::new(),
            role: Speaker::Agent,
            min_count: 1,
        }
    }
}

impl Params for LexiconHits {
    fn lexicons(&self) -> Vec<String> {
        self.categories.clone()
    }
}

/// Parameters of `lexicon_rate`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LexiconRate {
    pub categories: Vec<String>,
    pub per_minute: f64,
}

impl Default for LexiconRate {
    fn default() -> Self {
        LexiconRate {
            categories: Vec::new(),
            per_minute: 3.0,
        }
    }
}

impl Params for LexiconRate {
    fn lexicons(&self) -> Vec<String> {
        self.categories.clone()
    }
    fn validate(&self) -> Result<(), String> {
        if self.per_minute < 0.0 {
            return Err("per_minute must be 0 or more, e.g. 3.0".into());
        }
        Ok(())
    }
}

/// Parameters of `personal_numbers`: none.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersonalNumbers {}

impl Params for PersonalNumbers {
    fn lexicons(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A lexicon parameter written as one name or a list of names.
pub fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// A fraction in [0, 1].
pub fn fraction(key: &str, v: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(format!("{key} must be between 0 and 1, e.g. 0.6"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        toml::from_str(s).expect("toml")
    }

    #[test]
    fn every_detector_parses_its_own_defaults() {
        for d in docs() {
            let defaults: toml::Table = d
                .params
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        toml::from_str::<toml::Table>(&format!("x = {v}")).expect("value")["x"]
                            .clone(),
                    )
                })
                .collect();
            Detector::parse(d.name, &defaults).unwrap_or_else(|e| panic!("{}: {e}", d.name));
            Detector::parse(d.name, &toml::Table::new())
                .unwrap_or_else(|e| panic!("{}: {e}", d.name));
        }
    }

    #[test]
    fn typos_unknown_roles_and_non_finite_numbers_are_errors() {
        let cases = [
            (
                "lexicon_hits",
                "categories = [\"反问\"]\nrole = \"agnet\"",
                "agnet",
            ),
            ("lexicon_hits", "categorys = [\"反问\"]", "categorys"),
            ("opening_latency", "within_ms = -5", "within_ms"),
            (
                "lexicon_rate",
                "per_minute = nan",
                "per_minute must be a finite number",
            ),
            (
                "speech_rate",
                "max_cps = inf",
                "max_cps must be a finite number",
            ),
            (
                "opening_closing",
                "min_similarity = 1.5",
                "min_similarity must be between 0 and 1",
            ),
            ("telepathy", "", "unknown detector"),
        ];
        for (name, params, want) in cases {
            let e = Detector::parse(name, &table(params)).expect_err(params);
            assert!(e.to_string().contains(want), "{name} {params}: {e}");
        }
        assert!(Detector::parse("lexicon_hits", &table("role = \"customer\"")).is_ok());
    }
}
