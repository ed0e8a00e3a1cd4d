//! Throughput of `record::seal` on one file, for `scripts/bench`.
//!
//! `seal_bench FILE [--mode store|null|encrypt] [--dir DIR]` prints one JSON line:
//! `{mode, bytes, ciphertext_bytes, seconds, mb_per_s, cpu_seconds, cid, peak_rss_kib}`,
//! where `bytes` is the input (plaintext) size, the figure `sha256sum` is
//! compared on, and `peak_rss_kib` is the kernel's `VmHWM`.
//!
//! - `store` (default): seal into an [`FsBlockStore`] in a fresh directory under
//!   `DIR` (default: the input's directory, so the store is on the disk being
//!   measured; `/tmp` here carried extra kernel overhead), removed afterwards.
//!   This is the figure the target is about: what a patient waits for, up to
//!   the blocks being durable.
//! - `null`: seal into a store that drops every block, to tell the cost of the
//!   disk apart from the cost of encryption, hashing and DAG building.
//! - `encrypt`: `stream::encrypt` into nothing, without the DAG, to isolate the
//!   cipher and the ciphertext hash.
//!
//! MB is 10^6 bytes, as `dd` and most disk tools count.

use careledger_vault::ipfs::{FsBlockStore, NullBlockStore};
use careledger_vault::{record, stream, RecordContext, RecordKey};
use std::time::Instant;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of this process (`/proc` counts in 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is parenthesised and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut mode = "store".to_string();
    let mut dir = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mode" => mode = args.next().ok_or("--mode needs a value")?,
            "--dir" => dir = Some(args.next().ok_or("--dir needs a value")?.into()),
            _ if file.is_none() => file = Some(arg),
            _ => return Err(format!("unexpected argument {arg}").into()),
        }
    }
    let path = file.ok_or("usage: seal_bench FILE [--mode store|null|encrypt] [--dir DIR]")?;
    let dir: std::path::PathBuf = match dir {
        Some(dir) => dir,
        None => std::path::Path::new(&path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| ".".into(), |p| p.to_path_buf()),
    };
    let ctx = RecordContext {
        chain_id: 412346,
        registry: [7u8; 20].into(),
        patient: [8u8; 20].into(),
        record_id: 1u64.try_into()?,
    };
    let key = RecordKey::generate();
    let mut input = std::fs::File::open(&path)?;
    let bytes = input.metadata()?.len();

    let start = Instant::now();
    let (ciphertext_bytes, cid) = match mode.as_str() {
        "store" => {
            let store_dir = dir.join(format!("seal-bench-{}", std::process::id()));
            let mut store = FsBlockStore::open(&store_dir)?;
            let sealed = record::seal(&key, &ctx, &mut input, &mut store);
            let elapsed = start.elapsed();
            let cpu = cpu_seconds();
            drop(store);
            std::fs::remove_dir_all(&store_dir)?;
            // Commit the deletion now: on a file system mounted with `discard`, freeing
            // a GiB makes the next journal commit slow, and that would be the next
            // run's.
            std::fs::File::open(&dir)?.sync_all()?;
            let sealed = sealed?;
            let run = Run {
                mode: &mode,
                bytes,
                ciphertext_bytes: sealed.ciphertext_len,
                elapsed,
                cpu_seconds: cpu,
                cid: &sealed.cid.to_string(),
            };
            return run.report();
        }
        "null" => {
            let sealed = record::seal(&key, &ctx, &mut input, &mut NullBlockStore)?;
            (sealed.ciphertext_len, sealed.cid.to_string())
        }
        "encrypt" => {
            let sealed = stream::encrypt(&key, &ctx, &mut input, &mut std::io::sink())?;
            (sealed.ciphertext_len, String::new())
        }
        other => return Err(format!("unknown mode {other}").into()),
    };
    let elapsed = start.elapsed();
    Run {
        mode: &mode,
        bytes,
        ciphertext_bytes,
        elapsed,
        cpu_seconds: cpu_seconds(),
        cid: &cid,
    }
    .report()
}

struct Run<'a> {
    mode: &'a str,
    bytes: u64,
    ciphertext_bytes: u64,
    elapsed: std::time::Duration,
    cpu_seconds: f64,
    cid: &'a str,
}

impl Run<'_> {
    fn report(&self) -> Result<(), Box<dyn std::error::Error>> {
        let seconds = self.elapsed.as_secs_f64();
        let json = serde_json::json!({
            "mode": self.mode,
            "bytes": self.bytes,
            "ciphertext_bytes": self.ciphertext_bytes,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "mb_per_s": (self.bytes as f64 / seconds / 1e5).round() / 10.0,
            "cid": self.cid,
            "peak_rss_kib": peak_rss_kib(),
            "cpu_seconds": self.cpu_seconds,
        });
        println!("{json}");
        Ok(())
    }
}
