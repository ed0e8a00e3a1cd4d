//! `--data-dir`, part one: `blocks.log`, an append-only log of mined blocks (block
//! number, timestamp and raw signed transactions), fsynced before a receipt is
//! returned. The chain is deterministic, so replaying the log rebuilds exactly the
//! state, blocks and receipts; `snapshot.bin` (see [`super::snapshot`]) only saves
//! the replay of the blocks it covers.
//!
//! # Record format (`CLB2`)
//!
//! ```text
//! offset  size  field
//!      0     4  magic "CLB2"
//!      4     4  body length, big-endian
//!      8     4  body check: CRC-32C of the body, big-endian
//!     12     4  header check: CRC-32C of bytes 0..12, big-endian
//!     16     …  body: number u64 | timestamp u64 | tx count u32 | (len u32 | raw tx)*
//! ```
//!
//! Records follow each other with nothing in between and carry consecutive block
//! numbers from 1. CRC-32C detects every error of up to 3 bits in a record (and
//! every burst of up to 32), which a truncated hash does not guarantee. A log of
//! the first format (`CLB1`: magic, length, the first 4 bytes of keccak256(body),
//! then timestamp, count and transactions; no header check, no number) is read
//! with the same rules and rewritten in this format at start.
//!
//! # What may be cut off
//!
//! Reading stops at the first offset `P` where no intact record starts. The bytes
//! from `P` to the end are cut off (with a WARN naming the file, the offset and
//! the count) only when they cannot hold a complete record that was once written:
//! - fewer bytes than a record header: a header torn by the crash;
//! - an intact header (magic and header check) whose declared body runs past the
//!   end of the file: the final record, torn while it was being appended;
//! - at most [`TAIL_SLACK`] bytes in which no record of any version starts (no
//!   `CLB` anywhere) and that neither a length field nor a body check at `P` fits:
//!   bytes after the last record that are no record, such as the zeros a power cut
//!   can leave when the file grew but its data was not written.
//!
//! Anything else refuses to start, naming the file and the offset, and leaves the
//! file untouched: an intact record anywhere after `P` (damage in the middle), a
//! complete record whose body fails its check (a flipped bit, also in the last
//! record: its transaction may have been confirmed), a damaged header in front of
//! bytes that fit it, a record of another format (a log written by another version
//! is never mistaken for garbage), a long run of bytes that are no record, a record
//! whose checks pass but whose body does not decode or carries the wrong number.

use alloy_primitives::{keccak256, Bytes};
use crc::{Crc, Table, CRC_32_ISCSI};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The log's file name inside the data dir.
pub const LOG_FILE: &str = "blocks.log";
/// Where a first-format log is rewritten before it is renamed over [`LOG_FILE`].
pub const LOG_TMP_FILE: &str = "blocks.log.tmp";
const MAGIC: &[u8; 4] = b"CLB2";
const HEADER: usize = 16;
/// number, timestamp and transaction count.
const MIN_BODY: usize = 20;
const V1_MAGIC: &[u8; 4] = b"CLB1";
const V1_HEADER: usize = 12;
const V1_MIN_BODY: usize = 12;
/// The most bytes after the last record that are cut off as garbage (see the
/// module docs): more than a torn append can leave behind.
pub const TAIL_SLACK: usize = 64 << 10;
/// What every record magic, of any version, starts with.
const MAGIC_FAMILY: &[u8; 3] = b"CLB";

/// One mined block as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEntry {
    /// The block's timestamp, which replay must reuse: it is not the wall clock's.
    pub timestamp: u64,
    /// The block's transactions, EIP-2718 encoded and signed, in block order.
    pub txs: Vec<Bytes>,
}

/// How far the log goes: a snapshot records it to prove it belongs to this log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// Blocks recorded (the number of the last one).
    pub blocks: u64,
    /// Byte length of those records: where the next one starts.
    pub offset: u64,
    /// Body check of the last record (zero for an empty log).
    pub last_check: [u8; 4],
}

/// Why a data dir cannot be used. Nothing in the data dir has been changed when one
/// of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{} is damaged at byte {offset}: {why}. The devnode refuses to start and left the file \
         as it is: restore it from a backup, or, to give up the blocks from there on, truncate it \
         to {offset} bytes (`truncate -s {offset} {}`)",
        file.display(),
        file.display()
    )]
    /// A file holds bytes that are not a torn tail: damage the devnode must not
    /// repair by guessing (see the module docs).
    Damaged {
        /// The damaged file.
        file: PathBuf,
        /// Where the damage starts: the length the file may be truncated to.
        offset: u64,
        /// What is wrong there.
        why: String,
    },
    /// The files are each intact but do not belong together, or another node
    /// holds the directory's `LOCK`.
    #[error("{}: {why}. The devnode refuses to start and changed nothing", dir.display())]
    Inconsistent {
        /// The data dir.
        dir: PathBuf,
        /// What does not fit.
        why: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The log as read at start: checked, nothing changed yet.
pub struct ReadLog {
    dir: PathBuf,
    path: PathBuf,
    /// The file's length, and the length of its intact records.
    len: usize,
    good: usize,
    /// A first-format log, re-encoded in this format.
    rewrite: Option<Vec<u8>>,
    /// The file, and where each record's entry (timestamp, transactions) lies in it.
    bytes: Vec<u8>,
    spans: Vec<Range<usize>>,
    /// Where each record ends, and its body check (in this format).
    marks: Vec<(u64, [u8; 4])>,
}

impl ReadLog {
    /// Reads and checks `dir/blocks.log` (which must exist) without changing it.
    pub fn read(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(LOG_FILE);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io_at(&path))?;
        let format = if bytes.starts_with(V1_MAGIC) {
            Format::V1
        } else {
            Format::V2
        };
        let scan = scan(&bytes, format).map_err(|(offset, why)| StoreError::Damaged {
            file: path.clone(),
            offset: offset as u64,
            why,
        })?;
        let rewrite = (format == Format::V1).then(|| {
            let mut out = Vec::new();
            let mut marks = Vec::with_capacity(scan.spans.len());
            for (i, span) in scan.spans.iter().enumerate() {
                let record = encode_record(i as u64 + 1, &decode_body(&bytes[span.clone()]));
                out.extend_from_slice(&record);
                marks.push((out.len() as u64, record_check(&record)));
            }
            (out, marks)
        });
        let (rewrite, marks) = match rewrite {
            Some((out, marks)) => (Some(out), marks),
            None => (None, scan.marks),
        };
        Ok(Self {
            dir: dir.to_owned(),
            path,
            len: bytes.len(),
            good: scan.good,
            rewrite,
            bytes,
            spans: scan.spans,
            marks,
        })
    }

    /// The log file read, `dir/blocks.log`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Blocks in the log.
    pub fn blocks(&self) -> u64 {
        self.spans.len() as u64
    }

    /// Where the log stands after block `n` (`n <= blocks()`).
    pub fn position_after(&self, n: u64) -> LogPosition {
        let (offset, last_check) = match n {
            0 => (0, [0; 4]),
            n => self.marks[n as usize - 1],
        };
        LogPosition {
            blocks: n,
            offset,
            last_check,
        }
    }

    /// Opens the log for appending: cuts a torn tail off (with a WARN), or
    /// rewrites a first-format log in this format. Returns the entries of the
    /// blocks after block `after`.
    pub fn open(self, after: u64) -> Result<(BlockLog, Vec<BlockEntry>), StoreError> {
        let entries = self
            .spans
            .iter()
            .skip(after as usize)
            .map(|span| decode_body(&self.bytes[span.clone()]))
            .collect();
        let position = self.position_after(self.blocks());
        let path = self.path;
        if self.good < self.len {
            tracing::warn!(
                file = %path.display(),
                offset = self.good,
                dropped = self.len - self.good,
                "block log ends in a torn record (or bytes that are no record): cutting them off"
            );
        }
        let rewritten = self.rewrite.is_some();
        if let Some(out) = self.rewrite {
            let tmp = self.dir.join(LOG_TMP_FILE);
            let mut file = File::create(&tmp).map_err(io_at(&tmp))?;
            file.write_all(&out).map_err(io_at(&tmp))?;
            file.sync_all().map_err(io_at(&tmp))?;
            drop(file);
            std::fs::rename(&tmp, &path).map_err(io_at(&path))?;
            sync_dir(&self.dir)?;
            tracing::info!(
                file = %path.display(),
                blocks = self.spans.len(),
                "block log rewritten from the first format (CLB1) into CLB2"
            );
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_at(&path))?;
        if !rewritten && self.good < self.len {
            file.set_len(self.good as u64).map_err(io_at(&path))?;
            file.sync_all().map_err(io_at(&path))?;
        }
        Ok((
            BlockLog {
                file,
                path,
                position,
                broken: None,
            },
            entries,
        ))
    }
}

/// The log, open for appending.
pub struct BlockLog {
    file: File,
    path: PathBuf,
    position: LogPosition,
    /// Set when an append failed: the chain went on without the log.
    broken: Option<String>,
}

impl BlockLog {
    /// Creates an empty log at `dir/blocks.log` (which must not exist).
    pub fn create(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(LOG_FILE);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io_at(&path))?;
        sync_dir(dir)?;
        Ok(Self {
            file,
            path,
            position: LogPosition {
                blocks: 0,
                offset: 0,
                last_check: [0; 4],
            },
            broken: None,
        })
    }

    /// Opens the existing `dir/blocks.log`: [`ReadLog::read`] then [`ReadLog::open`].
    pub fn open(dir: &Path) -> Result<(Self, Vec<BlockEntry>), StoreError> {
        ReadLog::read(dir)?.open(0)
    }

    /// The log file appended to, `dir/blocks.log`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How far the log goes now, for a snapshot to record.
    pub fn position(&self) -> LogPosition {
        self.position
    }

    /// Appends block `number` (the next one) and waits until it is on disk. After a
    /// failed append the log refuses every later block: the chain holds a block the
    /// log does not, and a later record must not pretend to follow it.
    pub fn append(&mut self, number: u64, entry: &BlockEntry) -> io::Result<()> {
        if let Some(why) = &self.broken {
            return Err(io::Error::other(format!(
                "{} stopped at block {}: {why}",
                self.path.display(),
                self.position.blocks
            )));
        }
        if number != self.position.blocks + 1 {
            return Err(io::Error::other(format!(
                "block {number} does not follow block {} of {}",
                self.position.blocks,
                self.path.display()
            )));
        }
        let record = encode_record(number, entry);
        let written = self
            .file
            .write_all(&record)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Leave no partial record that a later one would follow.
            let _ = self.file.set_len(self.position.offset);
            self.broken = Some(format!("writing block {number} failed: {e}"));
            return Err(e);
        }
        self.position = LogPosition {
            blocks: number,
            offset: self.position.offset + record.len() as u64,
            last_check: record_check(&record),
        };
        Ok(())
    }
}

/// `dir`'s entry fsynced, so that a created or renamed file survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}

/// CRC-32C (Castagnoli), the checksum of this format's records and of snapshots.
pub(crate) static CRC32C: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISCSI);

fn check(bytes: &[u8]) -> [u8; 4] {
    CRC32C.checksum(bytes).to_be_bytes()
}

/// The first format's check: the first 4 bytes of keccak256.
fn check_v1(bytes: &[u8]) -> [u8; 4] {
    keccak256(bytes)[..4].try_into().expect("4 bytes")
}

fn encode_record(number: u64, entry: &BlockEntry) -> Vec<u8> {
    let mut body =
        Vec::with_capacity(MIN_BODY + entry.txs.iter().map(|t| 4 + t.len()).sum::<usize>());
    body.extend_from_slice(&number.to_be_bytes());
    body.extend_from_slice(&entry.timestamp.to_be_bytes());
    body.extend_from_slice(&(entry.txs.len() as u32).to_be_bytes());
    for tx in &entry.txs {
        body.extend_from_slice(&(tx.len() as u32).to_be_bytes());
        body.extend_from_slice(tx);
    }
    let mut record = Vec::with_capacity(HEADER + body.len());
    record.extend_from_slice(MAGIC);
    record.extend_from_slice(&(body.len() as u32).to_be_bytes());
    record.extend_from_slice(&check(&body));
    let header_check = check(&record[..12]);
    record.extend_from_slice(&header_check);
    record.extend_from_slice(&body);
    record
}

fn record_check(record: &[u8]) -> [u8; 4] {
    record[8..12].try_into().expect("4 bytes")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `CLB1`: magic | len | body check | timestamp | count | txs.
    V1,
    /// `CLB2`: see the module docs.
    V2,
}

impl Format {
    fn magic(self) -> &'static [u8; 4] {
        match self {
            Format::V1 => V1_MAGIC,
            Format::V2 => MAGIC,
        }
    }

    fn header(self) -> usize {
        match self {
            Format::V1 => V1_HEADER,
            Format::V2 => HEADER,
        }
    }

    fn check(self, bytes: &[u8]) -> [u8; 4] {
        match self {
            Format::V1 => check_v1(bytes),
            Format::V2 => check(bytes),
        }
    }

    fn min_record(self) -> usize {
        match self {
            Format::V1 => V1_HEADER + V1_MIN_BODY,
            Format::V2 => HEADER + MIN_BODY,
        }
    }
}

/// Why no intact record starts at an offset.
#[derive(Debug)]
enum Bad {
    /// Fewer bytes left than a header.
    Short,
    /// Wrong magic, or (CLB2) the header check fails.
    Header,
    /// Intact header, body runs past the end of the file.
    PastEnd,
    /// Intact header and complete body, which fails its check.
    Body,
    /// Checks pass, but the body does not decode or has the wrong number.
    Content(String),
}

fn be_u32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// An intact record: its number (CLB2), where its entry lies (from the record's
/// start), its length and its body check.
struct Record {
    number: Option<u64>,
    entry: Range<usize>,
    len: usize,
    check: [u8; 4],
}

/// The record at the start of `b`.
fn record(b: &[u8], format: Format) -> Result<Record, Bad> {
    let header = format.header();
    if b.len() < header {
        return Err(Bad::Short);
    }
    if &b[..4] != format.magic() {
        return Err(Bad::Header);
    }
    if format == Format::V2 && check(&b[..12]) != b[12..16] {
        return Err(Bad::Header);
    }
    let len = be_u32(b, 4).expect("header length");
    let Some(body) = b.get(header..header + len) else {
        return Err(Bad::PastEnd);
    };
    let body_check = format.check(body);
    if body_check != b[8..12] {
        return Err(Bad::Body);
    }
    let (number, start) = match format {
        Format::V1 => (None, header),
        Format::V2 => {
            let n = be_u64(body, 0).ok_or_else(|| Bad::Content("body too short".into()))?;
            (Some(n), header + 8)
        }
    };
    if !well_formed(&b[start..header + len]) {
        return Err(Bad::Content(
            "its checks pass but its body does not decode as a block".into(),
        ));
    }
    Ok(Record {
        number,
        entry: start..header + len,
        len: header + len,
        check: body_check,
    })
}

/// Whether `entry` is timestamp u64 | count u32 | (len u32 | tx)*, nothing after.
fn well_formed(entry: &[u8]) -> bool {
    let Some(n) = be_u32(entry, 8) else {
        return false;
    };
    let mut at = 12;
    for _ in 0..n {
        match be_u32(entry, at) {
            Some(l) if at + 4 + l <= entry.len() => at += 4 + l,
            _ => return false,
        }
    }
    at == entry.len()
}

/// A [`well_formed`] entry.
fn decode_body(entry: &[u8]) -> BlockEntry {
    let timestamp = be_u64(entry, 0).expect("well formed");
    let n = be_u32(entry, 8).expect("well formed");
    let mut at = 12;
    let mut txs = Vec::with_capacity(n);
    for _ in 0..n {
        let l = be_u32(entry, at).expect("well formed");
        txs.push(Bytes::copy_from_slice(&entry[at + 4..at + 4 + l]));
        at += 4 + l;
    }
    BlockEntry { timestamp, txs }
}

struct Scan {
    /// Where each record's entry lies.
    spans: Vec<Range<usize>>,
    /// Length of the intact records.
    good: usize,
    /// Where each record ends, and its body check.
    marks: Vec<(u64, [u8; 4])>,
}

/// Reads the records of `bytes`; `Err((offset, why))` when the log must not be used.
fn scan(bytes: &[u8], format: Format) -> Result<Scan, (usize, String)> {
    let mut spans = Vec::new();
    let mut marks = Vec::new();
    let mut at = 0;
    let bad = loop {
        if at == bytes.len() {
            return Ok(Scan {
                spans,
                good: at,
                marks,
            });
        }
        match record(&bytes[at..], format) {
            Ok(r) => {
                let expected = spans.len() as u64 + 1;
                if r.number.is_some_and(|n| n != expected) {
                    break Bad::Content(format!(
                        "it holds block {} where block {expected} belongs",
                        r.number.unwrap_or_default()
                    ));
                }
                spans.push(at + r.entry.start..at + r.entry.end);
                at += r.len;
                marks.push((at as u64, r.check));
            }
            Err(bad) => break bad,
        }
    };
    let block = spans.len() + 1;
    if let Some(next) = (at + 1..bytes.len())
        .find(|&q| bytes[q..].starts_with(format.magic()) && record(&bytes[q..], format).is_ok())
    {
        return Err((
            at,
            format!(
                "the record of block {block} is not intact ({}) and an intact record follows \
                 at byte {next}",
                describe(&bad)
            ),
        ));
    }
    let tail = &bytes[at..];
    let refused = match &bad {
        Bad::Short | Bad::PastEnd => None,
        Bad::Body | Bad::Content(_) => Some(format!(
            "the record of block {block} is complete but {} (not a record torn by a crash, \
             which would be shorter than its header says)",
            describe(&bad)
        )),
        Bad::Header if tail.starts_with(MAGIC_FAMILY) => Some(format!(
            "the record of block {block} has a damaged header, or is a record of another \
             format ({:?}): written by another version of the devnode?",
            String::from_utf8_lossy(&tail[..4])
        )),
        Bad::Header if looks_complete(tail, format) => Some(format!(
            "the record of block {block} is complete but its header is damaged"
        )),
        Bad::Header if tail.len() > TAIL_SLACK => Some(format!(
            "{} bytes that are no record follow the last intact record (block {}), more than \
             a crash while appending leaves",
            tail.len(),
            block - 1
        )),
        Bad::Header if tail.windows(3).any(|w| w == MAGIC_FAMILY) => Some(format!(
            "bytes that are no record follow the last intact record (block {}), and a record \
             seems to start in them",
            block - 1
        )),
        Bad::Header => None,
    };
    if let Some(why) = refused {
        return Err((at, why));
    }
    Ok(Scan {
        spans,
        good: at,
        marks,
    })
}

fn describe(bad: &Bad) -> String {
    match bad {
        Bad::Short => "fewer bytes than a record header".into(),
        Bad::Header => "its header is damaged".into(),
        Bad::PastEnd => "it runs past the end of the file".into(),
        Bad::Body => "its body fails its checksum".into(),
        Bad::Content(why) => why.clone(),
    }
}

/// Whether `tail`, which starts with no intact header, is a complete record whose
/// header was damaged: its length field or its body check fits the bytes after it.
fn looks_complete(tail: &[u8], format: Format) -> bool {
    let header = format.header();
    if tail.len() < format.min_record() {
        return false;
    }
    let body = &tail[header..];
    be_u32(tail, 4) == Some(body.len()) || format.check(body) == tail[8..12]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(t: u64, txs: &[&'static [u8]]) -> BlockEntry {
        BlockEntry {
            timestamp: t,
            txs: txs.iter().map(|t| Bytes::from_static(t)).collect(),
        }
    }

    fn log_of(entries: &[BlockEntry]) -> Vec<u8> {
        entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| encode_record(i as u64 + 1, e))
            .collect()
    }

    fn three() -> Vec<BlockEntry> {
        vec![
            entry(7, &[b"abc"]),
            entry(8, &[]),
            entry(9, &[b"de", b"fgh"]),
        ]
    }

    #[test]
    fn an_intact_log_reads_back_every_entry() {
        let bytes = log_of(&three());
        let scan = scan(&bytes, Format::V2).unwrap();
        let entries: Vec<_> = scan
            .spans
            .iter()
            .map(|r| decode_body(&bytes[r.clone()]))
            .collect();
        assert_eq!(entries, three());
        assert_eq!(scan.good, bytes.len());
    }

    #[test]
    fn every_single_bit_flip_outside_a_torn_tail_is_refused() {
        let bytes = log_of(&three());
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            match scan(&b, Format::V2) {
                Err(_) => {}
                Ok(s) => panic!(
                    "bit {bit} (byte {}): accepted with {} entries, {} bytes kept",
                    bit / 8,
                    s.spans.len(),
                    s.good
                ),
            }
        }
    }

    #[test]
    fn every_prefix_keeps_the_records_it_holds_whole() {
        let entries = three();
        let bytes = log_of(&entries);
        let ends: Vec<usize> = (1..=3).map(|n| log_of(&entries[..n]).len()).collect();
        for len in 0..bytes.len() {
            let scan = scan(&bytes[..len], Format::V2).unwrap();
            let whole = ends.iter().filter(|&&e| e <= len).count();
            assert_eq!(scan.spans.len(), whole, "prefix of {len} bytes");
            assert_eq!(scan.good, if whole == 0 { 0 } else { ends[whole - 1] });
        }
    }

    #[test]
    fn garbage_after_the_last_record_is_cut_and_damage_before_a_record_is_not() {
        let mut bytes = log_of(&three());
        let end = bytes.len();
        bytes.extend_from_slice(b"\0\0\0\0 some bytes that are no record at all");
        let scan = scan(&bytes, Format::V2).unwrap();
        assert_eq!((scan.spans.len(), scan.good), (3, end));
        // The same bytes in front of a record are damage in the middle.
        bytes.extend_from_slice(&encode_record(4, &entry(10, &[])));
        let (offset, why) = super::scan(&bytes, Format::V2).err().unwrap();
        assert_eq!(offset, end);
        assert!(why.contains("intact record follows"), "{why}");
    }

    #[test]
    fn a_log_of_another_format_or_a_long_run_of_garbage_is_refused_not_cut() {
        // Records whose checks this version computes differently.
        let mut other = log_of(&three());
        let mut at = 0;
        while at < other.len() {
            let len = be_u32(&other, at + 4).unwrap();
            other[at + 12] ^= 0xff; // another header check
            at += HEADER + len;
        }
        let (offset, why) = scan(&other, Format::V2).err().unwrap();
        assert_eq!(offset, 0);
        assert!(why.contains("another format"), "{why}");
        let mut future = log_of(&three());
        future[3] = b'9';
        assert!(scan(&future, Format::V2).is_err());
        // Garbage longer than a torn append leaves.
        let mut long = log_of(&three());
        let end = long.len();
        long.resize(end + TAIL_SLACK + 1, 0);
        assert_eq!(scan(&long, Format::V2).err().unwrap().0, end);
        long.truncate(end + TAIL_SLACK);
        assert_eq!(scan(&long, Format::V2).unwrap().good, end);
    }

    #[test]
    fn a_record_with_the_wrong_number_is_refused() {
        let mut bytes = log_of(&three());
        bytes.extend_from_slice(&encode_record(3, &entry(10, &[])));
        assert!(scan(&bytes, Format::V2).is_err());
    }

    #[test]
    fn a_first_format_log_is_read_and_rewritten() {
        fn v1(e: &BlockEntry) -> Vec<u8> {
            let mut body = Vec::new();
            body.extend_from_slice(&e.timestamp.to_be_bytes());
            body.extend_from_slice(&(e.txs.len() as u32).to_be_bytes());
            for tx in &e.txs {
                body.extend_from_slice(&(tx.len() as u32).to_be_bytes());
                body.extend_from_slice(tx);
            }
            let mut r = V1_MAGIC.to_vec();
            r.extend_from_slice(&(body.len() as u32).to_be_bytes());
            r.extend_from_slice(&check_v1(&body));
            r.extend_from_slice(&body);
            r
        }
        let dir = std::env::temp_dir().join(format!("clb-v1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes: Vec<u8> = three().iter().flat_map(v1).collect();
        bytes.extend_from_slice(b"CLB1\0\0"); // torn
        std::fs::write(dir.join(LOG_FILE), &bytes).unwrap();
        let (mut log, entries) = BlockLog::open(&dir).unwrap();
        assert_eq!(entries, three());
        log.append(4, &entry(11, &[b"x"])).unwrap();
        drop(log);
        let rewritten = std::fs::read(dir.join(LOG_FILE)).unwrap();
        let mut all = three();
        all.push(entry(11, &[b"x"]));
        assert_eq!(rewritten, log_of(&all));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
