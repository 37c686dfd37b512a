//! Exchanges (2.1, 5.2, 客服 6.1–6.3): what the agent should say in reply to something, or at
//! some point of the call, and did not.
//!
//! All three only ever flag for review: whether the surname was needed, whether the line was
//! really clear or whether the customer really meant to unsubscribe is the inspector's call.
//! 5.2's 「能清楚的听到客户的声音」 is backed by the customer channel's voice activity: an
//! agent saying 听不到 while the customer's channel carried speech is the case the rule names.

use serde::{Deserialize, Serialize};

use super::registry::{Params, Speaker};
use super::{miao, secs, talk_within, Call, Signal};
use crate::Role;

/// Parameters of [`missing_response`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MissingResponse {
    pub trigger: String,
    pub trigger_role: Speaker,
    pub require: String,
    pub within_ms: u64,
}

impl Default for MissingResponse {
    fn default() -> Self {
        MissingResponse {
            trigger: "退订".into(),
            trigger_role: Speaker::Customer,
            require: "退订挽留".into(),
            within_ms: 120_000,
        }
    }
}

impl Params for MissingResponse {
    fn lexicons(&self) -> Vec<String> {
        vec![self.trigger.clone(), self.require.clone()]
    }
}

/// 客服 6.1–6.3: after the first `trigger` hit (the customer's 退订), no agent hit of `require`
/// within `within_ms`.
pub fn missing_response(call: &Call<'_>, p: &MissingResponse) -> Vec<Signal> {
    let triggers = call.hits_of(std::slice::from_ref(&p.trigger), p.trigger_role.role());
    let Some(&t) = triggers.first() else {
        return Vec::new();
    };
    let hit = &call.hits[t];
    let until = hit.end_ms + p.within_ms;
    if !call
        .hits_in(&p.require, Role::Agent, hit.start_ms, until)
        .is_empty()
    {
        return Vec::new();
    }
    let (text, require) = (&hit.text, &p.require);
    vec![Signal::new(
        call.say(
            format!(
                "「{text}」之后 {} 内坐席没有「{require}」类的话",
                miao(p.within_ms)
            ),
            format!(
                "after 「{text}」 no 「{require}」 from the agent within {}",
                secs(p.within_ms)
            ),
        ),
        hit.start_ms,
        until.min(call.duration_ms()),
        text.clone(),
    )
    .evidence(vec![t])]
}

/// Parameters of [`no_address`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoAddress {
    pub lexicon: String,
    pub titles: Vec<String>,
}

impl Default for NoAddress {
    fn default() -> Self {
        NoAddress {
            lexicon: "询问姓氏".into(),
            titles: ["先生", "女士", "小姐"].map(String::from).to_vec(),
        }
    }
}

impl Params for NoAddress {
    fn lexicons(&self) -> Vec<String> {
        vec![self.lexicon.clone()]
    }
}

/// Whether `text` addresses someone as X先生 / X女士: a title right after a Chinese character
/// that is not a pronoun (「您先生」 is not an address).
fn addressed(text: &str, titles: &[String]) -> bool {
    titles.iter().any(|t| {
        text.match_indices(t.as_str()).any(|(at, _)| {
            text[..at].chars().next_back().is_some_and(|c| {
                ('\u{4e00}'..='\u{9fff}').contains(&c) && !"您你他她的位".contains(c)
            })
        })
    })
}

/// 2.1 「未称呼或称呼不到位 (需主动询问客户姓氏)」: the agent neither asks the surname nor says
/// X先生/X女士 anywhere in the call.
pub fn no_address(call: &Call<'_>, p: &NoAddress) -> Vec<Signal> {
    let agent = call.lines(Role::Agent);
    if agent.is_empty()
        || !call
            .hits_of(std::slice::from_ref(&p.lexicon), Some(Role::Agent))
            .is_empty()
        || agent.iter().any(|l| addressed(l.text, &p.titles))
    {
        return Vec::new();
    }
    let titles = p.titles.join("/");
    vec![Signal::new(
        call.say(
            format!("坐席未询问客户姓氏，也未以「X{titles}」称呼客户"),
            format!("the agent neither asked the surname nor addressed the customer as X{titles}"),
        ),
        agent[0].start_ms,
        agent[agent.len() - 1].end_ms,
        String::new(),
    )]
}

/// Parameters of [`cannot_hear`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CannotHear {
    pub lexicon: String,
    pub look_ms: u64,
    pub min_customer_speech_ms: u64,
}

impl Default for CannotHear {
    fn default() -> Self {
        CannotHear {
            lexicon: "听不到重拨".into(),
            look_ms: 10_000,
            min_customer_speech_ms: 1_500,
        }
    }
}

impl Params for CannotHear {
    fn lexicons(&self) -> Vec<String> {
        vec![self.lexicon.clone()]
    }
}

/// 5.2 「能清楚的听到客户的声音,却说听不到让客户重拨」: the agent says it cannot hear or asks
/// for a redial while the customer's channel carried speech in the `look_ms` before.
pub fn cannot_hear(call: &Call<'_>, p: &CannotHear) -> Vec<Signal> {
    let customer = call.speech(Role::Customer);
    call.hits_of(std::slice::from_ref(&p.lexicon), Some(Role::Agent))
        .into_iter()
        .filter_map(|i| {
            let h = &call.hits[i];
            let heard = talk_within(&customer, h.start_ms.saturating_sub(p.look_ms), h.start_ms);
            (heard >= p.min_customer_speech_ms).then(|| {
                Signal::new(
                    call.say(
                        format!("坐席说「{}」，而此前 {} 内客户声道有 {} 语音", h.text, miao(p.look_ms), miao(heard)),
                        format!("agent said 「{}」 while the customer channel carried {} of speech in the {} before", h.text, secs(heard), secs(p.look_ms)),
                    ),
                    h.start_ms,
                    h.end_ms,
                    h.text.clone(),
                )
                .evidence(vec![i])
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Scene, A, C, WEDNESDAY};

    #[test]
    fn unsubscribe_needs_its_reply() {
        const P: &str = "trigger = \"退订\"\nrequire = \"退订挽留\"\nwithin_ms = 60000";
        let turns = [
            (C, 1000, 3000, "我要退订这个业务。"),
            (A, 4000, 7000, "好的，已经帮您退订了。"),
        ];
        let none = Scene::new(WEDNESDAY, &turns).hit(C, "退订", 1500, 2500, "我要退订");
        assert_eq!(none.run("missing_response", P).len(), 1);
        let asked = Scene::new(
            WEDNESDAY,
            &[
                (C, 1000, 3000, "我要退订这个业务。"),
                (A, 4000, 7000, "请问您退订的原因是什么呢？"),
            ],
        )
        .hit(C, "退订", 1500, 2500, "我要退订")
        .hit(A, "退订挽留", 4500, 6000, "退订的原因");
        assert!(asked.run("missing_response", P).is_empty());
        assert!(
            Scene::new(WEDNESDAY, &turns)
                .run("missing_response", P)
                .is_empty(),
            "no 退订, nothing to answer"
        );
    }

    #[test]
    fn surname_or_address() {
        let cases = [
            ("好的，请问有什么可以帮您？", 1),
            ("好的王先生，我帮您查一下。", 0),
            ("您先生的号码是多少？", 1),
        ];
        for (text, want) in cases {
            assert_eq!(
                Scene::new(WEDNESDAY, &[(A, 1000, 4000, text)])
                    .run("no_address", "")
                    .len(),
                want,
                "{text}"
            );
        }
        let asked = Scene::new(WEDNESDAY, &[(A, 1000, 4000, "请问您贵姓？")]).hit(
            A,
            "询问姓氏",
            1000,
            3000,
            "请问您贵姓",
        );
        assert!(asked.run("no_address", "").is_empty());
    }

    #[test]
    fn cannot_hear_while_the_customer_spoke() {
        const P: &str = "lexicon = \"听不到重拨\"\nlook_ms = 10000\nmin_customer_speech_ms = 1500";
        let turns = [
            (C, 1000, 5000, "我的宽带断了，你们什么时候来修？"),
            (A, 6000, 8000, "听不到，您挂了重拨吧。"),
        ];
        let clear = Scene::new(WEDNESDAY, &turns).hit(A, "听不到重拨", 6000, 6500, "听不到");
        assert_eq!(clear.run("cannot_hear", P).len(), 1);
        let silent_line = Scene::new(WEDNESDAY, &turns)
            .hit(A, "听不到重拨", 6000, 6500, "听不到")
            .activity(&[(6000, 8000)], &[], 9000);
        assert!(
            silent_line.run("cannot_hear", P).is_empty(),
            "nothing on the customer channel: really silent"
        );
    }
}
