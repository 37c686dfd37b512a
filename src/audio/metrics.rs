//! Call timing figures from per-role speech regions.
//!
//! Takes the output of [`activity`](super::activity) and the call's length; returns
//! [`CallMetrics`]. Silence before the first and after the last speech of anyone is neither
//! dead air nor the longest silence: that is ringing, a recorder starting early or a hang-up,
//! not something the agent let happen; how long the agent took to speak is
//! `first_agent_speech_ms` instead. On a mono call (one unknown-role track) nobody is known to
//! be the agent, so talk times per role stay zero and `first_agent_speech_ms` is `None`; dead
//! air and silence are still measured, since they do not depend on who speaks.

use super::{CallMetrics, RoleActivity, SpeechRegion};
use crate::Role;

/// Timing of a call: talk per role, overlap, dead air of at least `dead_air_min_ms`.
pub fn metrics(activity: &[RoleActivity], duration_ms: u64, dead_air_min_ms: u64) -> CallMetrics {
    let of_role = |role: Role| {
        union(
            activity
                .iter()
                .filter(|a| a.role == role)
                .flat_map(|a| a.regions.iter().copied()),
            duration_ms,
        )
    };
    let agent = of_role(Role::Agent);
    let customer = of_role(Role::Customer);
    let anyone = union(
        activity.iter().flat_map(|a| a.regions.iter().copied()),
        duration_ms,
    );

    let gaps: Vec<SpeechRegion> = anyone
        .windows(2)
        .map(|w| SpeechRegion {
            start_ms: w[0].end_ms,
            end_ms: w[1].start_ms,
        })
        .collect();
    let dead_air: Vec<SpeechRegion> = gaps
        .iter()
        .copied()
        .filter(|g| len(g) >= dead_air_min_ms)
        .collect();
    CallMetrics {
        duration_ms,
        agent_talk_ms: total(&agent),
        customer_talk_ms: total(&customer),
        overlap_ms: total(&intersect(&agent, &customer)),
        dead_air_total_ms: total(&dead_air),
        dead_air,
        first_agent_speech_ms: agent.first().map(|r| r.start_ms),
        longest_silence_ms: gaps.iter().map(len).max().unwrap_or(0),
        agent_speech: agent,
        customer_speech: customer,
        decode_notes: Vec::new(),
    }
}

fn len(r: &SpeechRegion) -> u64 {
    r.end_ms.saturating_sub(r.start_ms)
}

fn total(rs: &[SpeechRegion]) -> u64 {
    rs.iter().map(len).sum()
}

/// Sorted, non-overlapping, clipped to the call.
fn union(regions: impl Iterator<Item = SpeechRegion>, duration_ms: u64) -> Vec<SpeechRegion> {
    let mut rs: Vec<SpeechRegion> = regions
        .map(|r| SpeechRegion {
            start_ms: r.start_ms.min(duration_ms),
            end_ms: r.end_ms.min(duration_ms),
        })
        .filter(|r| r.end_ms > r.start_ms)
        .collect();
    rs.sort_by_key(|r| r.start_ms);
    let mut out: Vec<SpeechRegion> = Vec::with_capacity(rs.len());
    for r in rs {
        match out.last_mut() {
            Some(last) if r.start_ms <= last.end_ms => last.end_ms = last.end_ms.max(r.end_ms),
            _ => out.push(r),
        }
    }
    out
}

/// Both inputs sorted and non-overlapping, as [`union`] returns them.
fn intersect(a: &[SpeechRegion], b: &[SpeechRegion]) -> Vec<SpeechRegion> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let start_ms = a[i].start_ms.max(b[j].start_ms);
        let end_ms = a[i].end_ms.min(b[j].end_ms);
        if end_ms > start_ms {
            out.push(SpeechRegion { start_ms, end_ms });
        }
        if a[i].end_ms < b[j].end_ms {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn role(role: Role, rs: &[(u64, u64)]) -> RoleActivity {
        RoleActivity {
            role,
            regions: rs
                .iter()
                .map(|&(start_ms, end_ms)| SpeechRegion { start_ms, end_ms })
                .collect(),
        }
    }

    #[test]
    fn two_party_call() {
        // Agent greets at 1 s, customer answers with an overlap, then 6 s of dead air (hold),
        // then a 3 s pause that is below the threshold.
        let act = [
            role(Role::Agent, &[(1000, 4000), (13_000, 15_000)]),
            role(Role::Customer, &[(3500, 7000), (18_000, 20_000)]),
        ];
        let m = metrics(&act, 22_000, 5000);
        assert_eq!(m.agent_talk_ms, 5000);
        assert_eq!(m.customer_talk_ms, 5500);
        assert_eq!(m.overlap_ms, 500);
        assert_eq!(
            m.dead_air,
            vec![SpeechRegion {
                start_ms: 7000,
                end_ms: 13_000
            }]
        );
        assert_eq!(m.dead_air_total_ms, 6000);
        assert_eq!(m.first_agent_speech_ms, Some(1000));
        assert_eq!(m.longest_silence_ms, 6000);
        assert_eq!(m.duration_ms, 22_000);
    }

    #[test]
    fn ringing_and_hang_up_are_not_dead_air() {
        let act = [
            role(Role::Agent, &[(8000, 9000)]),
            role(Role::Customer, &[]),
        ];
        let m = metrics(&act, 30_000, 5000);
        assert!(m.dead_air.is_empty());
        assert_eq!(m.longest_silence_ms, 0);
        assert_eq!(m.first_agent_speech_ms, Some(8000));
    }

    #[test]
    fn agent_who_never_speaks() {
        let act = [role(Role::Agent, &[]), role(Role::Customer, &[(0, 2000)])];
        let m = metrics(&act, 5000, 5000);
        assert_eq!(m.first_agent_speech_ms, None);
        assert_eq!(m.agent_talk_ms, 0);
    }

    #[test]
    fn mono_call_has_no_roles_but_has_dead_air() {
        let act = [role(Role::Unknown, &[(0, 1000), (7000, 8000)])];
        let m = metrics(&act, 8000, 5000);
        assert_eq!(
            (m.agent_talk_ms, m.customer_talk_ms, m.overlap_ms),
            (0, 0, 0)
        );
        assert_eq!(m.first_agent_speech_ms, None);
        assert_eq!(m.dead_air_total_ms, 6000);
    }

    #[test]
    fn regions_past_the_end_are_clipped() {
        let act = [role(Role::Agent, &[(900, 1500), (1000, 1200)])];
        let m = metrics(&act, 1000, 5000);
        assert_eq!(m.agent_talk_ms, 100);
    }

    fn regions() -> impl proptest::strategy::Strategy<Value = Vec<(u64, u64)>> {
        proptest::collection::vec((0u64..60_000, 1u64..8_000), 0..12)
            .prop_map(|v| v.into_iter().map(|(s, len)| (s, s + len)).collect())
    }

    proptest! {
        /// Talk, overlap and dead air always add up within the call, and dead air is silence
        /// of both parties at least as long as the threshold.
        #[test]
        fn figures_are_consistent(agent in regions(), customer in regions(), threshold in 1u64..10_000) {
            let duration = 60_000;
            let act = [role(Role::Agent, &agent), role(Role::Customer, &customer)];
            let m = metrics(&act, duration, threshold);
            prop_assert!(m.overlap_ms <= m.agent_talk_ms.min(m.customer_talk_ms));
            let speech = m.agent_talk_ms + m.customer_talk_ms - m.overlap_ms;
            prop_assert!(speech + m.dead_air_total_ms <= duration);
            for d in &m.dead_air {
                prop_assert!(d.end_ms - d.start_ms >= threshold);
                prop_assert!(d.end_ms - d.start_ms <= m.longest_silence_ms);
                let speaking = agent.iter().chain(&customer).any(|&(s, e)| s < d.end_ms && d.start_ms < e.min(duration));
                prop_assert!(!speaking, "{d:?} overlaps speech");
            }
            prop_assert_eq!(m.first_agent_speech_ms, agent.iter().map(|r| r.0).filter(|&s| s < duration).min());
        }
    }
}
