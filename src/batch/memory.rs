//! How many calls may be transcribed at once within a memory budget.
//!
//! Each worker holds one decoded call (16 kHz, 16-bit; a 4-hour stereo call, the longest
//! accepted, is 0.9 GB) and its own Whisper decoding state; the model is shared. A job
//! scheduler kills the whole process when it passes its limit (Slurm's `--mem`, a Kubernetes
//! memory limit), and a requeued job dies the same way, so `--jobs` is capped before the run
//! starts rather than trusted. The budget is `--max-memory`, else three quarters of the
//! memory the process may use: the machine's, or its cgroup's limit if lower.

use std::path::Path;

/// Peak of one worker on the longest call accepted, rounded up: `callqa probe` (decode and
/// voice detection) of 4 h of 48 kHz stereo WAV peaks at 911 MiB, and a worker adds its
/// Whisper decoding state and window buffers (README "Reliability").
pub const WORKER_PEAK_BYTES: u64 = 1_300 * MIB;

/// The process without workers, rounded up: a `callqa run` of one short call, with the model
/// (base q8_0) loaded, peaks at 278 MiB.
pub const PROCESS_BASE_BYTES: u64 = 300 * MIB;

/// Share of the available memory used when no `--max-memory` is given: the page cache and
/// whatever else runs beside callqa keep the rest.
const DEFAULT_SHARE: (u64, u64) = (3, 4);

const MIB: u64 = 1024 * 1024;

/// The jobs that fit in `budget` bytes, at most `wanted` and at least one (a single call
/// must be tried even on a small machine; it fails alone if it does not fit).
pub fn jobs_within(budget: u64, wanted: usize) -> usize {
    let per_worker = budget.saturating_sub(PROCESS_BASE_BYTES) / WORKER_PEAK_BYTES;
    usize::try_from(per_worker)
        .unwrap_or(usize::MAX)
        .clamp(1, wanted.max(1))
}

/// The default budget: a share of what this process may use, if that can be found out.
pub fn default_budget() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let total = meminfo.as_deref().and_then(mem_total);
    let limit = cgroup_limit(Path::new("/sys/fs/cgroup"));
    let available = match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    };
    available.map(|bytes| bytes / DEFAULT_SHARE.1 * DEFAULT_SHARE.0)
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of this process's cgroup (v2 `memory.max`, else v1
/// `memory.limit_in_bytes`); `None` when unlimited or unknown. v1 writes "unlimited" as a
/// huge number, which is then above the machine's total and loses to it.
fn cgroup_limit(root: &Path) -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(root.join(p)).ok();
    read("memory.max")
        .or_else(|| read("memory/memory.limit_in_bytes"))
        .and_then(|s| s.trim().parse().ok())
}

/// A size as written on the command line: bytes, or with K, M, G, T (powers of 1024, an
/// optional `i` and `B`: `1.5G`, `1536MiB`, `800M`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KI" | "KIB" => 1 << 10,
        "M" | "MB" | "MI" | "MIB" => 1 << 20,
        "G" | "GB" | "GI" | "GIB" => 1 << 30,
        "T" | "TB" | "TI" | "TIB" => 1 << 40,
        _ => return Err(format!("{text}: unknown unit; write e.g. 4G or 1500M")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text}: not a size; write e.g. 4G or 1500M"))?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text}: out of range; write e.g. 4G or 1500M"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * MIB;

    #[test]
    fn caps_jobs_by_the_budget_and_keeps_at_least_one() {
        // The Slurm and Kubernetes examples: 4 GiB for two cores runs both.
        assert_eq!(jobs_within(4 * GIB, 2), 2);
        assert_eq!(jobs_within(4 * GIB, 8), 2);
        // 2 GiB (the old Slurm example) holds one long call, not two.
        assert_eq!(jobs_within(2 * GIB, 2), 1);
        assert_eq!(jobs_within(100 * MIB, 4), 1);
        assert_eq!(jobs_within(64 * GIB, 4), 4);
        assert_eq!(jobs_within(64 * GIB, 0), 1);
    }

    #[test]
    fn the_cap_leaves_room_for_every_worker_at_its_peak() {
        for gib in 1..64 {
            let budget = gib * GIB;
            let jobs = jobs_within(budget, 1000) as u64;
            assert!(
                jobs == 1 || PROCESS_BASE_BYTES + jobs * WORKER_PEAK_BYTES <= budget,
                "{gib} GiB: {jobs} jobs"
            );
            assert!(
                PROCESS_BASE_BYTES + (jobs + 1) * WORKER_PEAK_BYTES > budget,
                "{gib} GiB: room for more than {jobs} jobs"
            );
        }
    }

    #[test]
    fn reads_sizes_as_written_on_a_command_line() {
        assert_eq!(parse_size("4G"), Ok(4 * GIB));
        assert_eq!(parse_size("1536MiB"), Ok(1536 * MIB));
        assert_eq!(parse_size("1.5g"), Ok(3 * GIB / 2));
        assert_eq!(parse_size("123456"), Ok(123_456));
        for bad in ["", "G", "4X", "-1G", "0", "1e400", "4 G B"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_the_machine_total_and_the_cgroup_limit() {
        let meminfo = "MemTotal:       24576000 kB\nMemFree:  1000 kB\n";
        assert_eq!(mem_total(meminfo), Some(24_576_000 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);

        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(cgroup_limit(dir.path()), None);
        std::fs::write(dir.path().join("memory.max"), "max\n").expect("write");
        assert_eq!(cgroup_limit(dir.path()), None, "v2 without a limit");
        std::fs::write(dir.path().join("memory.max"), "4294967296\n").expect("write");
        assert_eq!(cgroup_limit(dir.path()), Some(4 * GIB));

        let v1 = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(v1.path().join("memory")).expect("mkdir");
        std::fs::write(
            v1.path().join("memory/memory.limit_in_bytes"),
            "2147483648\n",
        )
        .expect("write");
        assert_eq!(cgroup_limit(v1.path()), Some(2 * GIB));
    }
}
