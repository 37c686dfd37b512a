//! Sharding: which calls one worker of a Kubernetes Indexed Job or a Slurm job array takes.
//!
//! A call belongs to shard `fnv1a64(call_id) % count`. FNV-1a, not std's hasher: std's is
//! seeded at random per process, and every shard must agree on the split without talking to
//! the others. Indexes are 0-based, like `JOB_COMPLETION_INDEX`.

use std::str::FromStr;

/// Shard `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// Environment variable giving the number of shards of a Kubernetes Indexed Job: Kubernetes
/// sets only the index, so the Job manifest passes `.spec.completions` here.
pub const K8S_COUNT_VAR: &str = "JOB_COMPLETIONS";

/// 64-bit FNV-1a: stable across processes, machines and releases.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Shard {
    /// Whether the call belongs to this shard.
    pub fn takes(&self, call_id: &str) -> bool {
        fnv1a64(call_id.as_bytes()) % self.count == self.index
    }

    /// `auto`: Kubernetes (`JOB_COMPLETION_INDEX` + `JOB_COMPLETIONS`) or Slurm
    /// (`SLURM_ARRAY_TASK_ID` + `SLURM_ARRAY_TASK_COUNT`).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let pairs = [
            ("JOB_COMPLETION_INDEX", K8S_COUNT_VAR),
            ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"),
        ];
        for (index_var, count_var) in pairs {
            if let Some(index) = var(index_var) {
                let count = var(count_var).ok_or_else(|| {
                    format!("--shard auto: {index_var} is set but {count_var} is not; set {count_var} to the number of shards")
                })?;
                return format!("{index}/{count}").parse().map_err(|e| {
                    format!("--shard auto: {index_var}={index}, {count_var}={count}: {e}")
                });
            }
        }
        Err("--shard auto: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set; pass --shard i/n".into())
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let usage = || format!("shard {s:?} is not i/n with 0 <= i < n, e.g. 0/3");
        let (i, n) = s.split_once('/').ok_or_else(usage)?;
        let index: u64 = i.trim().parse().map_err(|_| usage())?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_call_lands_in_exactly_one_shard() {
        let shards: Vec<Shard> = (0..3).map(|i| Shard { index: i, count: 3 }).collect();
        let mut sizes = [0; 3];
        for n in 0..3000 {
            let id = format!("call-{n}");
            let owners: Vec<usize> = (0..3).filter(|&i| shards[i].takes(&id)).collect();
            assert_eq!(owners.len(), 1);
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&s| s > 900), "{sizes:?}");
    }

    #[test]
    fn parses_spec_and_environment() {
        assert_eq!("1/3".parse(), Ok(Shard { index: 1, count: 3 }));
        assert!("3/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        let k8s = |k: &str| match k {
            "JOB_COMPLETION_INDEX" => Some("2".to_string()),
            "JOB_COMPLETIONS" => Some("4".to_string()),
            _ => None,
        };
        assert_eq!(Shard::from_env(k8s), Ok(Shard { index: 2, count: 4 }));
        let slurm = |k: &str| match k {
            "SLURM_ARRAY_TASK_ID" => Some("0".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("2".to_string()),
            _ => None,
        };
        assert_eq!(Shard::from_env(slurm), Ok(Shard { index: 0, count: 2 }));
        let half = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "1".to_string());
        assert!(Shard::from_env(half)
            .expect_err("should fail")
            .contains("JOB_COMPLETIONS"));
    }
}
