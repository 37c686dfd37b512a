//! 营销 only (6.3, 6.4): ordering language without the customer's consent, and a product
//! offered without the terms its product requires.
//!
//! Both only flag: whether an order was really placed is in the order records, not the call.
//! 6.4 asks for 「收费标准、免费试用期等关键要素」: the fee always, the free trial where the
//! product has one, so what each product requires is configured per product keyword.

use serde::{Deserialize, Serialize};

use super::registry::Params;
use super::{Call, Signal};
use crate::text::normalized;
use crate::Role;

/// What a product named by one of `keywords` must have told: lexicon names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Product {
    pub keywords: Vec<String>,
    pub require: Vec<String>,
}

/// Parameters of [`fee_disclosure`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeeDisclosure {
    pub offer: String,
    pub products: Vec<Product>,
    /// What an offer of a product no keyword names must have told.
    pub require: Vec<String>,
}

impl Default for FeeDisclosure {
    fn default() -> Self {
        FeeDisclosure {
            offer: "订购用语".into(),
            products: Vec::new(),
            require: vec!["收费标准".into()],
        }
    }
}

impl Params for FeeDisclosure {
    fn lexicons(&self) -> Vec<String> {
        let mut v = vec![self.offer.clone()];
        v.extend(self.require.iter().cloned());
        v.extend(self.products.iter().flat_map(|p| p.require.iter().cloned()));
        v
    }
    fn validate(&self) -> Result<(), String> {
        if self
            .products
            .iter()
            .any(|p| p.keywords.is_empty() || p.require.is_empty())
        {
            return Err("every product needs keywords and require, e.g. { keywords = [\"会员\"], require = [\"收费标准\", \"免费试用\"] }".into());
        }
        Ok(())
    }
}

/// 营销 6.4: an offer (ordering language, or a configured product named) without every lexicon
/// its product requires.
pub fn fee_disclosure(call: &Call<'_>, p: &FeeDisclosure) -> Vec<Signal> {
    let offers = call.hits_of(std::slice::from_ref(&p.offer), Some(Role::Agent));
    let agent_text = normalized(
        &call
            .lines(Role::Agent)
            .iter()
            .map(|l| l.text)
            .collect::<String>(),
    );
    let named: Vec<&Product> = p
        .products
        .iter()
        .filter(|prod| {
            prod.keywords
                .iter()
                .any(|k| agent_text.contains(&normalized(k)))
        })
        .collect();
    if offers.is_empty() && named.is_empty() {
        return Vec::new();
    }
    let mut required: Vec<&String> = named.iter().flat_map(|prod| &prod.require).collect();
    if required.is_empty() {
        required = p.require.iter().collect();
    }
    required.dedup();
    let missing: Vec<&str> = required
        .into_iter()
        .filter(|lex| {
            call.hits_of(std::slice::from_ref(*lex), Some(Role::Agent))
                .is_empty()
        })
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let at = offers
        .first()
        .map(|&i| (call.hits[i].start_ms, call.hits[i].end_ms));
    let (start_ms, end_ms) = at.unwrap_or((0, call.duration_ms()));
    let what = missing.join("」「");
    vec![Signal::new(
        call.say(
            format!("推荐业务时未告知「{what}」"),
            format!("a product was offered without 「{what}」"),
        ),
        start_ms,
        end_ms,
        offers
            .first()
            .map(|&i| call.hits[i].text.clone())
            .unwrap_or_default(),
    )
    .evidence(offers)]
}

/// Parameters of [`order_without_consent`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderWithoutConsent {
    pub order: String,
    pub refusal: String,
    pub consent: Vec<String>,
}

impl Default for OrderWithoutConsent {
    fn default() -> Self {
        OrderWithoutConsent {
            order: "订购用语".into(),
            refusal: "客户拒绝".into(),
            consent: [
                "好的",
                "可以",
                "行",
                "办吧",
                "开吧",
                "同意",
                "要的",
                "没问题",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl Params for OrderWithoutConsent {
    fn lexicons(&self) -> Vec<String> {
        vec![self.order.clone(), self.refusal.clone()]
    }
}

/// Whether `said` holds a consent word not negated (「不行」「不可以」 are refusals).
fn consents(said: &str, consent: &[String]) -> bool {
    let said = normalized(said);
    consent.iter().any(|c| {
        let c = normalized(c);
        !c.is_empty()
            && said
                .match_indices(c.as_str())
                .any(|(at, _)| !said[..at].ends_with(['不', '没', '别']))
    })
}

/// 营销 6.3: ordering language unless the customer's last turn before it consents without
/// refusing. Consent is read from that turn because an early 「好的」 to the greeting is not
/// agreement to buy, and consent given after a refusal (「不需要」 … 「好的，那帮我办吧」) clears it.
pub fn order_without_consent(call: &Call<'_>, p: &OrderWithoutConsent) -> Vec<Signal> {
    let orders = call.hits_of(std::slice::from_ref(&p.order), Some(Role::Agent));
    let refusals = call.hits_of(std::slice::from_ref(&p.refusal), Some(Role::Customer));
    let customer = call.lines(Role::Customer);
    let mut out = Vec::new();
    for &o in &orders {
        let order = &call.hits[o];
        let last = customer.iter().rev().find(|l| l.end_ms <= order.start_ms);
        let refused_then = last.and_then(|l| {
            refusals
                .iter()
                .copied()
                .find(|&r| call.hits[r].start_ms >= l.start_ms && call.hits[r].start_ms < l.end_ms)
        });
        if refused_then.is_none() && last.is_some_and(|l| consents(l.text, &p.consent)) {
            continue;
        }
        let refused = refused_then.or_else(|| {
            refusals
                .iter()
                .copied()
                .rev()
                .find(|&r| call.hits[r].end_ms <= order.start_ms)
        });
        let signal = match (refused, last) {
            (Some(r), _) => Signal::new(
                call.say(
                    format!(
                        "客户说「{}」后坐席仍说「{}」",
                        call.hits[r].text, order.text
                    ),
                    format!(
                        "「{}」 after the customer said 「{}」",
                        order.text, call.hits[r].text
                    ),
                ),
                call.hits[r].start_ms,
                order.end_ms,
                order.text.clone(),
            )
            .evidence(vec![r, o]),
            (None, Some(l)) => Signal::new(
                call.say(
                    format!(
                        "「{}」未经客户同意：客户最后说的是「{}」",
                        order.text, l.text
                    ),
                    format!(
                        "「{}」 with no consent: the customer's last words were 「{}」",
                        order.text, l.text
                    ),
                ),
                l.start_ms,
                order.end_ms,
                order.text.clone(),
            )
            .evidence(vec![o]),
            (None, None) => Signal::new(
                call.say(
                    format!("客户还没说话，坐席就说「{}」", order.text),
                    format!("「{}」 before the customer said anything", order.text),
                ),
                order.start_ms,
                order.end_ms,
                order.text.clone(),
            )
            .evidence(vec![o]),
        };
        out.push(signal);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Scene, A, C, WEDNESDAY};

    #[test]
    fn fee_disclosure_table() {
        const P: &str = "offer = \"订购用语\"\nrequire = [\"收费标准\"]\nproducts = [{ keywords = [\"会员\"], require = [\"收费标准\", \"免费试用\"] }]";
        let offer = (A, 1000, 5000, "我们有一个流量套餐，可以给您开通。");
        let member = (A, 1000, 5000, "我们有一个视频会员，可以给您开通。");
        let cases: Vec<(&str, Scene, usize)> = vec![
            (
                "offer without terms",
                Scene::new(WEDNESDAY, &[offer]).hit(A, "订购用语", 3000, 4500, "给您开通"),
                1,
            ),
            (
                "offer with its fee",
                Scene::new(WEDNESDAY, &[offer, (A, 6000, 9000, "每月十元。")])
                    .hit(A, "订购用语", 3000, 4500, "给您开通")
                    .hit(A, "收费标准", 6000, 8000, "每月十元"),
                0,
            ),
            (
                "a trial mention is not the fee",
                Scene::new(WEDNESDAY, &[offer, (A, 6000, 9000, "可以免费试用一个月。")])
                    .hit(A, "订购用语", 3000, 4500, "给您开通")
                    .hit(A, "免费试用", 6000, 8000, "免费试用"),
                1,
            ),
            (
                "a product with a trial: the fee alone is not enough",
                Scene::new(WEDNESDAY, &[member, (A, 6000, 9000, "每月十元。")])
                    .hit(A, "订购用语", 3000, 4500, "给您开通")
                    .hit(A, "收费标准", 6000, 8000, "每月十元"),
                1,
            ),
            (
                "a product with a trial: fee and trial",
                Scene::new(
                    WEDNESDAY,
                    &[member, (A, 6000, 9000, "每月十元，前三个月免费试用。")],
                )
                .hit(A, "订购用语", 3000, 4500, "给您开通")
                .hit(A, "收费标准", 6000, 7000, "每月十元")
                .hit(A, "免费试用", 7500, 9000, "免费试用"),
                0,
            ),
            (
                "「业务」 in passing is no offer",
                Scene::new(WEDNESDAY, &[(A, 1000, 3000, "请问您要办理什么业务？")]),
                0,
            ),
        ];
        for (name, scene, want) in cases {
            assert_eq!(scene.run("fee_disclosure", P).len(), want, "{name}");
        }
    }

    #[test]
    fn order_without_consent_table() {
        const P: &str = "order = \"订购用语\"\nrefusal = \"客户拒绝\"\nconsent = [\"好的\", \"可以\", \"行\", \"办吧\"]";
        let order = (A, 6000, 8000, "我给您开通。");
        let cases: Vec<(&str, Scene, usize)> = vec![
            (
                "after a refusal",
                Scene::new(WEDNESDAY, &[(C, 1000, 3000, "不需要。"), order])
                    .hit(C, "客户拒绝", 1000, 2000, "不需要")
                    .hit(A, "订购用语", 6000, 7500, "给您开通"),
                1,
            ),
            (
                "consent after the refusal clears it",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (C, 1000, 2000, "不需要。"),
                        (A, 2500, 4000, "每月只要五元。"),
                        (C, 4200, 5500, "好的，那帮我办吧。"),
                        order,
                    ],
                )
                .hit(C, "客户拒绝", 1000, 2000, "不需要")
                .hit(A, "订购用语", 6000, 7500, "给您开通"),
                0,
            ),
            (
                "after consent",
                Scene::new(WEDNESDAY, &[(C, 1000, 3000, "好的，可以。"), order]).hit(
                    A,
                    "订购用语",
                    6000,
                    7500,
                    "给您开通",
                ),
                0,
            ),
            (
                "「不行」 is no consent",
                Scene::new(WEDNESDAY, &[(C, 1000, 3000, "不行。"), order]).hit(
                    A,
                    "订购用语",
                    6000,
                    7500,
                    "给您开通",
                ),
                1,
            ),
            (
                "before the customer said anything",
                Scene::new(WEDNESDAY, &[order]).hit(A, "订购用语", 6000, 7500, "给您开通"),
                1,
            ),
        ];
        for (name, scene, want) in cases {
            assert_eq!(scene.run("order_without_consent", P).len(), want, "{name}");
        }
    }
}
