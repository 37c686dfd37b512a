//! The counts per state shown above every queue, cached per filter and viewer.
//!
//! Counting a filtered queue (flagged calls with one rule, say) walks tens of thousands of
//! index rows at 100,000 calls: tens of milliseconds, and every queue request shows counts.
//! So counts are cached, and a write through this server starts a new generation. A count
//! from an older generation is still served for [`GRACE`]; after that the next request still
//! gets it, and hands one recount to the background, which every other request for the same
//! key then waits out with the old count too. Recounting in the request itself, once per
//! reader, was the slow tail of the load test: each burst of publishing made every concurrent
//! reader of a busy filter recount at once. A count older than [`STALE`] is never served: the
//! request that finds it counts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::review::{self, ReviewError};
use crate::store::Store;

/// Calls per state.
pub(crate) type Counts = BTreeMap<String, i64>;

/// How long a filtered queue's counts may lag behind writes before one request recounts.
const GRACE: Duration = Duration::from_secs(2);

/// How long an old count may stand in while another request recounts.
const STALE: Duration = Duration::from_secs(30);

/// Most keys kept; past it the cache starts again empty.
const KEPT: usize = 4096;

/// A count, with the write generation and the time it was taken at.
#[derive(Clone)]
struct Entry {
    generation: u64,
    at: Instant,
    counts: Counts,
}

/// A recount handed to the background.
pub(crate) struct Recount {
    key: String,
    user: review::User,
    filter: review::Filter,
}

/// The cache of every viewer's and filter's counts.
#[derive(Default)]
pub(crate) struct CountsCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Keys being recounted right now.
    recounting: Mutex<HashSet<String>>,
    /// Counting a key takes its stripe's gate.
    gates: [Mutex<()>; 16],
    generation: AtomicU64,
}

impl CountsCache {
    /// Records that the store changed: every cached count is now from an older generation.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The counts per state of `filter`'s queue for `user`, and, when they are an old count,
    /// the recount to run in the background (see the module doc).
    pub(crate) fn get(
        &self,
        store: &Store,
        user: &review::User,
        filter: &review::Filter,
    ) -> Result<(Counts, Option<Recount>), ReviewError> {
        let key = filter.counts_key(user);
        if let Some(answer) = self.cached(&key, user, filter) {
            return Ok(answer);
        }
        // Nothing usable is cached: one request per key counts, and the requests that came
        // at the same moment (every reader, just after the server starts) take its count.
        let stripe = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut h);
            h.finish() as usize % self.gates.len()
        };
        let _gate = self.gates[stripe].lock().unwrap_or_else(|p| p.into_inner());
        if let Some(answer) = self.cached(&key, user, filter) {
            return Ok(answer);
        }
        let now = self.generation.load(Ordering::SeqCst);
        let counts = review::count_states(store, user, filter)?;
        self.keep(key, now, counts.clone());
        Ok((counts, None))
    }

    /// The cached count of `key` if it may be served, with a recount when it is old.
    fn cached(
        &self,
        key: &str,
        user: &review::User,
        filter: &review::Filter,
    ) -> Option<(Counts, Option<Recount>)> {
        let e = self.entries.lock().ok()?.get(key).cloned()?;
        let age = e.at.elapsed();
        if e.generation == self.generation.load(Ordering::SeqCst) || age < GRACE {
            return Some((e.counts, None));
        }
        if age >= STALE {
            return None;
        }
        let recount = self.claim(key).then(|| Recount {
            key: key.to_string(),
            user: user.clone(),
            filter: filter.clone(),
        });
        Some((e.counts, recount))
    }

    /// Runs a recount [`CountsCache::get`] handed out.
    pub(crate) fn recount(&self, store: &Store, r: Recount) {
        let now = self.generation.load(Ordering::SeqCst);
        match review::count_states(store, &r.user, &r.filter) {
            Ok(counts) => self.keep(r.key, now, counts),
            Err(e) => {
                tracing::warn!("recounting a queue failed: {e}");
                self.release(&r.key);
            }
        }
    }

    /// Takes the right to recount `key`: false when another request already has it.
    fn claim(&self, key: &str) -> bool {
        self.recounting
            .lock()
            .map(|mut r| r.insert(key.to_string()))
            .unwrap_or(true)
    }

    fn release(&self, key: &str) {
        if let Ok(mut r) = self.recounting.lock() {
            r.remove(key);
        }
    }

    /// Stores a count, and ends any recount of its key (a recount that never ran, too).
    fn keep(&self, key: String, generation: u64, counts: Counts) {
        self.release(&key);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= KEPT {
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    generation,
                    at: Instant::now(),
                    counts,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::review::{Filter, Role, User};

    fn supervisor() -> User {
        User {
            name: "boss".into(),
            role: Role::Supervisor,
            agent_id: None,
        }
    }

    #[test]
    fn an_old_count_is_served_while_one_recount_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let cache = CountsCache::default();
        let (user, filter) = (supervisor(), Filter::default());
        let mut old = Counts::new();
        old.insert("auto_scored".into(), 7);
        cache.keep(filter.counts_key(&user), 0, old.clone());
        if let Ok(mut e) = cache.entries.lock() {
            e.values_mut().for_each(|e| e.at -= GRACE);
        }
        cache.changed();
        let (first, recount) = cache.get(&store, &user, &filter).expect("counts");
        assert_eq!(first, old);
        let recount = recount.expect("the first reader after a write hands out a recount");
        let (second, none) = cache.get(&store, &user, &filter).expect("counts");
        assert_eq!(second, old, "a second reader gets the old count");
        assert!(none.is_none(), "and no second recount");
        cache.recount(&store, recount);
        let (counted, _) = cache.get(&store, &user, &filter).expect("counts");
        assert!(counted.is_empty(), "then the empty store's count");
    }
}
