//! 营销 only (6.3, 6.4): ordering language without the customer's consent, and a product
//! offered without its fee or free-trial terms.
//!
//! Both only flag: whether an order was really placed is in the order records, not the call.

use super::{Call, Params, Signal};
use crate::text::normalized;
use crate::Role;

/// 营销 6.4: a product was offered but the fee or the trial terms were not told.
pub fn fee_disclosure(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let offers = call.hits_of(&[p.str("offer", "订购用语")], Some(Role::Agent));
    let agent_text: String = call.lines(Role::Agent).iter().map(|l| l.text).collect();
    let mentions_product = ["套餐", "业务", "流量包", "会员"]
        .iter()
        .any(|w| agent_text.contains(w));
    if offers.is_empty() && !mentions_product {
        return Vec::new();
    }
    let fee = call.hits_of(
        &[p.str("fee", "资费告知"), p.str("trial", "资费告知")],
        Some(Role::Agent),
    );
    if !fee.is_empty() {
        return Vec::new();
    }
    let at = offers
        .first()
        .map(|&i| (call.hits[i].start_ms, call.hits[i].end_ms));
    let (start_ms, end_ms) = at.unwrap_or((0, call.duration_ms()));
    vec![Signal {
        reason: "a product was offered without its fee or free-trial terms".into(),
        start_ms,
        end_ms,
        words: offers
            .first()
            .map(|&i| call.hits[i].text.clone())
            .unwrap_or_default(),
        evidence: offers,
        count: 1,
    }]
}

/// 营销 6.3: ordering language after the customer refused, or when the customer's last turn
/// before it holds none of the `consent` words. Consent is read from the customer's own last
/// turn because an early 「好的」 to the greeting is not agreement to buy.
pub fn order_without_consent(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let orders = call.hits_of(&[p.str("order", "订购用语")], Some(Role::Agent));
    let refusals = call.hits_of(&[p.str("refusal", "客户拒绝")], Some(Role::Customer));
    let mut consent = p.list("consent");
    if consent.is_empty() {
        consent = [
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
        .to_vec();
    }
    let customer = call.lines(Role::Customer);
    let mut out = Vec::new();
    for &o in &orders {
        let order = &call.hits[o];
        let refused = refusals
            .iter()
            .copied()
            .find(|&r| call.hits[r].end_ms <= order.start_ms);
        if let Some(r) = refused {
            out.push(Signal {
                reason: format!(
                    "「{}」 after the customer said 「{}」",
                    order.text, call.hits[r].text
                ),
                start_ms: call.hits[r].start_ms,
                end_ms: order.end_ms,
                words: order.text.clone(),
                evidence: vec![r, o],
                count: 1,
            });
            continue;
        }
        let last = customer.iter().rev().find(|l| l.end_ms <= order.start_ms);
        let agreed = last.is_some_and(|l| {
            let said = normalized(l.text);
            consent.iter().any(|c| said.contains(&normalized(c)))
        });
        if !agreed {
            out.push(Signal {
                reason: match last {
                    Some(l) => format!(
                        "「{}」 with no consent: the customer's last words were 「{}」",
                        order.text, l.text
                    ),
                    None => format!("「{}」 before the customer said anything", order.text),
                },
                start_ms: last.map_or(order.start_ms, |l| l.start_ms),
                end_ms: order.end_ms,
                words: order.text.clone(),
                evidence: vec![o],
                count: 1,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Scene, A, C, WEDNESDAY};

    #[test]
    fn fee_disclosure_table() {
        const P: &str = "offer = \"订购用语\"\nfee = \"资费告知\"\ntrial = \"资费告知\"";
        let offer = (A, 1000, 5000, "我们有一个流量套餐，可以给您开通。");
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
                    .hit(A, "资费告知", 6000, 8000, "每月十元"),
                0,
            ),
            (
                "no product, nothing to disclose",
                Scene::new(WEDNESDAY, &[(A, 1000, 3000, "请问您是机主吗？")]),
                0,
            ),
        ];
        for (name, scene, want) in cases {
            assert_eq!(scene.run("fee_disclosure", P).len(), want, "{name}");
        }
    }

    #[test]
    fn order_without_consent_table() {
        const P: &str =
            "order = \"订购用语\"\nrefusal = \"客户拒绝\"\nconsent = [\"好的\", \"可以\"]";
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
