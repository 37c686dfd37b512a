//! Assignment (`callqa assign`): every flagged call plus a seeded random sample per agent and
//! period, spread evenly over the inspectors. The seed, the parameters and the chosen calls
//! are stored in `samples`, so an auditor can redraw the same sample and see it was not picked
//! by hand.

use std::collections::BTreeMap;

use rusqlite::params;

use super::{now_text, sql_err, write_tx, Action, ReviewError, Role, State, Store, User};

type Result<T> = std::result::Result<T, ReviewError>;

/// What to assign.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SamplePlan {
    /// Calls sampled per agent and period, besides the flagged ones.
    pub per_agent: usize,
    /// `day` or `month`: the period the quota counts in (「5条/人/天」 is per day).
    pub per_day: bool,
    /// Assign every flagged call too.
    pub all_flagged: bool,
    /// Who reviews; calls are spread over them in turn.
    pub inspectors: Vec<String>,
    pub seed: u64,
    /// Only calls of this month (`YYYY-MM`).
    pub month: Option<String>,
}

/// Draws and assigns the sample. Returns (call_id, inspector) pairs in assignment order.
pub fn assign_sample(
    store: &Store,
    who: &User,
    plan: &SamplePlan,
) -> Result<Vec<(String, String)>> {
    if plan.inspectors.is_empty() {
        return Err(ReviewError::Invalid(
            "name at least one inspector (--inspectors a,b)".into(),
        ));
    }
    for name in &plan.inspectors {
        match super::user(store, name)? {
            Some(u) if matches!(u.role, Role::Inspector | Role::Supervisor) => {}
            Some(u) => {
                return Err(ReviewError::Invalid(format!(
                    "{name} is a {}, not an inspector",
                    u.role
                )))
            }
            None => {
                return Err(ReviewError::Invalid(format!(
                    "no user {name}; add one with `callqa user add {name} --role inspector`"
                )))
            }
        }
    }
    if !who.role.may(Action::Assign) {
        return Err(ReviewError::Forbidden(format!(
            "a {} cannot assign",
            who.role
        )));
    }
    let chosen = draw(store, plan)?;
    let e = sql_err(store);
    let tx = write_tx(store).map_err(&e)?;
    let mut out = Vec::with_capacity(chosen.len());
    for (i, call_id) in chosen.iter().enumerate() {
        let inspector = &plan.inspectors[i % plan.inspectors.len()];
        super::workflow::assign_in(
            &tx,
            who,
            call_id,
            inspector,
            serde_json::json!({"state": State::AutoScored}),
            serde_json::json!({"seed": plan.seed}),
        )
        .map_err(&e)?;
        out.push((call_id.clone(), inspector.clone()));
    }
    tx.execute(
        "INSERT INTO samples (at, who, seed, params, calls) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            now_text(),
            who.name,
            plan.seed as i64,
            serde_json::to_string(plan).unwrap_or_default(),
            serde_json::to_string(&chosen).unwrap_or_default()
        ],
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)?;
    Ok(out)
}

/// The calls the plan picks among those not yet assigned: flagged ones first, then each
/// (agent, period)'s sample, in a seeded order that does not depend on the database's.
fn draw(store: &Store, plan: &SamplePlan) -> Result<Vec<String>> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare(
            "SELECT call_id, agent_id, started_at, flagged FROM call_index
             WHERE state = 'auto_scored' AND (?1 IS NULL OR month = ?1)
             ORDER BY call_id",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([plan.month.as_deref()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)? != 0,
            ))
        })
        .map_err(&e)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&e)?;
    let period_len = if plan.per_day { 10 } else { 7 };
    let mut chosen = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (call_id, agent, started_at, flagged) in rows {
        if flagged && plan.all_flagged {
            chosen.push(call_id);
        } else {
            let period = started_at.chars().take(period_len).collect();
            groups.entry((agent, period)).or_default().push(call_id);
        }
    }
    let mut rng = SplitMix(plan.seed);
    for calls in groups.values_mut() {
        shuffle(calls, &mut rng);
        chosen.extend(calls.iter().take(plan.per_agent).cloned());
    }
    Ok(chosen)
}

/// SplitMix64: a tiny seeded generator, stable across versions and platforms, which a
/// recorded seed needs and the `rand` crates do not promise.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Fisher–Yates.
fn shuffle<T>(items: &mut [T], rng: &mut SplitMix) {
    for i in (1..items.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_order_and_another_seed_another() {
        let draw = |seed| {
            let mut v: Vec<u32> = (0..20).collect();
            shuffle(&mut v, &mut SplitMix(seed));
            v
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let mut sorted = draw(7);
        sorted.sort();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
    }
}
