//! `--data-dir`, part two: `snapshot.bin`, the whole chain (state, blocks,
//! transactions and receipts) as of one block of `blocks.log`, so that a restart
//! loads it and replays only the log records after it instead of every block.
//!
//! The log stays the record of truth: a snapshot only saves work. It is written
//! every `snapshot_every` blocks on a thread of its own (encoded under the chain
//! lock, written outside it), after a start that replayed more blocks than that
//! (no snapshot, or an unusable one), and when the node shuts down cleanly ([`super::Node::write_snapshot`]). Each write
//! goes to `snapshot.bin.tmp`, is fsynced, renamed over `snapshot.bin`, and the
//! directory fsynced: a crash leaves the previous snapshot or the new one.
//!
//! # File format
//!
//! ```text
//! "CLSNAP01" | body length u64 BE | CRC-32C of the body u32 BE | body
//! body: chain id | genesis fingerprint | log position (blocks, byte offset, last
//!       record's body check) | blocks from genesis, each with its transactions and
//!       receipts | state (contracts, accounts with storage, logs, block hashes)
//! ```
//!
//! Integers are LEB128, 256-bit words minimal big-endian with a length byte, maps
//! sorted by key (the encoding of a state is canonical: [`state_digest`] hashes
//! it). A header is stored as the fields that differ from its parent's (the
//! parent hash and number are implied), and its hash beside it.

use super::chain::{Chain, MinedBlockRecord, MinedTx};
use super::persist::{sync_dir, LogPosition, StoreError, CRC32C};
use alloy_consensus::{Header, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{keccak256, Address, Bloom, Bytes, Log, LogData, B256, B64, U256};
use revm::bytecode::Bytecode;
use revm::database::{AccountState, CacheDB, DbAccount, EmptyDB};
use revm::state::AccountInfo;
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

/// The snapshot's file name inside the data dir.
pub const SNAPSHOT_FILE: &str = "snapshot.bin";
/// Where a snapshot that failed its checks is moved (kept for inspection).
pub const CORRUPT_SNAPSHOT_FILE: &str = "snapshot.bin.corrupt";
/// Where a snapshot is written before it is renamed over [`SNAPSHOT_FILE`].
pub const TMP_FILE: &str = "snapshot.bin.tmp";
const MAGIC: &[u8; 8] = b"CLSNAP01";
const MAGIC_FAMILY: &[u8; 6] = b"CLSNAP";
const PREAMBLE: usize = 8 + 8 + 4;

/// The state the chain has (in its canonical encoding, see the module docs).
fn state_of(chain: &Chain) -> &CacheDB<EmptyDB> {
    &chain.db
}

fn set_state(chain: &mut Chain, db: CacheDB<EmptyDB>) {
    chain.db = db.into();
}

/// keccak256 of the canonical encoding of the chain's state: equal states, equal digests.
pub fn state_digest(chain: &Chain) -> B256 {
    let mut e = Enc::default();
    put_state(&mut e, state_of(chain));
    keccak256(&e.0)
}

/// What a snapshot must have been made from to apply to this chain: the chain id,
/// the genesis block and the genesis state (which `--accounts` and the devnode's
/// version decide). `chain` must be at genesis.
pub fn fingerprint(chain: &Chain) -> B256 {
    let mut e = Enc::default();
    e.var(chain.chain_id);
    e.b256(&chain.blocks[0].hash);
    put_state(&mut e, state_of(chain));
    keccak256(&e.0)
}

/// A decoded snapshot.
pub struct Snapshot {
    /// The chain id it was written under; another one refuses to start.
    pub chain_id: u64,
    /// The [`fingerprint`] of the genesis it was made from; under another genesis
    /// the snapshot is ignored and the whole log replayed.
    pub fingerprint: B256,
    /// How far `blocks.log` went when it was written: replay resumes there.
    pub position: LogPosition,
    blocks: Vec<MinedBlockRecord>,
    txs: HashMap<B256, MinedTx>,
    db: CacheDB<EmptyDB>,
}

impl Snapshot {
    /// Replaces `chain`'s blocks, transactions and state with the snapshot's.
    pub fn apply(self, chain: &mut Chain) {
        chain.block_by_hash = self
            .blocks
            .iter()
            .map(|b| (b.hash, b.header.number))
            .collect();
        chain.blocks = self.blocks;
        chain.txs = self.txs;
        set_state(chain, self.db);
    }
}

/// Why a snapshot was not used.
#[derive(Debug)]
pub enum LoadError {
    /// Made by another snapshot format: ignored, to be replaced by the next one.
    OtherVersion(String),
    /// Fails its checksum or does not decode.
    Corrupt(String),
    /// The file exists but cannot be read.
    Io(std::io::Error),
}

/// Reads `dir/snapshot.bin`, `None` if there is none.
pub fn load(dir: &Path) -> Result<Option<Snapshot>, LoadError> {
    let bytes = match std::fs::read(dir.join(SNAPSHOT_FILE)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LoadError::Io(e)),
    };
    decode_file(&bytes).map(Some)
}

fn decode_file(bytes: &[u8]) -> Result<Snapshot, LoadError> {
    let corrupt = |why: &str| LoadError::Corrupt(why.to_owned());
    if bytes.len() < PREAMBLE {
        return Err(corrupt("shorter than its header"));
    }
    if &bytes[..8] != MAGIC {
        if bytes.starts_with(MAGIC_FAMILY) {
            return Err(LoadError::OtherVersion(
                String::from_utf8_lossy(&bytes[..8]).into_owned(),
            ));
        }
        return Err(corrupt("no snapshot magic"));
    }
    let len = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let body = &bytes[PREAMBLE..];
    if len != body.len() as u64 {
        return Err(corrupt(&format!(
            "its header says {len} bytes of body, the file has {}",
            body.len()
        )));
    }
    if CRC32C.checksum(body).to_be_bytes() != bytes[16..20] {
        return Err(corrupt("its checksum does not match"));
    }
    let mut d = Dec { b: body, at: 0 };
    let snapshot = get_snapshot(&mut d).map_err(|why| corrupt(&why))?;
    if d.at != body.len() {
        return Err(corrupt("bytes after its end"));
    }
    Ok(snapshot)
}

/// The whole file for `chain`, which `position` of the log leads to.
pub fn encode(chain: &Chain, fingerprint: B256, position: LogPosition) -> Vec<u8> {
    let mut e = Enc::default();
    e.var(chain.chain_id);
    e.b256(&fingerprint);
    e.var(position.blocks);
    e.var(position.offset);
    e.raw(&position.last_check);
    e.var(chain.blocks.len() as u64);
    let mut parent: Option<&MinedBlockRecord> = None;
    for block in &chain.blocks {
        put_header(&mut e, &block.header, parent);
        e.b256(&block.hash);
        e.var(block.txs.len() as u64);
        for hash in &block.txs {
            put_tx(&mut e, &chain.txs[hash]);
        }
        parent = Some(block);
    }
    put_state(&mut e, state_of(chain));
    let mut file = Vec::with_capacity(PREAMBLE + e.0.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&(e.0.len() as u64).to_be_bytes());
    file.extend_from_slice(&CRC32C.checksum(&e.0).to_be_bytes());
    file.extend_from_slice(&e.0);
    file
}

fn get_snapshot(d: &mut Dec) -> Result<Snapshot, String> {
    let chain_id = d.var()?;
    let fingerprint = d.b256()?;
    let position = LogPosition {
        blocks: d.var()?,
        offset: d.var()?,
        last_check: d.take(4)?.try_into().expect("4 bytes"),
    };
    let n = d.len()?;
    let mut blocks: Vec<MinedBlockRecord> = Vec::with_capacity(n);
    let mut txs = HashMap::new();
    for number in 0..n as u64 {
        let header = get_header(d, blocks.last())?;
        if header.number != number {
            return Err(format!("block {number} holds number {}", header.number));
        }
        let hash = d.b256()?;
        let count = d.len()?;
        let mut hashes = Vec::with_capacity(count);
        for index in 0..count as u64 {
            let tx = get_tx(d, number, index)?;
            hashes.push(tx.hash);
            txs.insert(tx.hash, tx);
        }
        blocks.push(MinedBlockRecord {
            header,
            hash,
            txs: hashes,
        });
    }
    let head = blocks.last().ok_or("no genesis block")?;
    if head.header.hash_slow() != head.hash {
        return Err("the head block's header does not hash to its hash".into());
    }
    if head.header.number != position.blocks {
        return Err(format!(
            "it holds {} blocks but says it covers {}",
            head.header.number, position.blocks
        ));
    }
    let db = get_state(d)?;
    Ok(Snapshot {
        chain_id,
        fingerprint,
        position,
        blocks,
        txs,
        db,
    })
}

/// Writes snapshots for one data dir: in the background as the chain grows, or now.
pub struct Snapshotter {
    dir: PathBuf,
    every: u64,
    fingerprint: B256,
    writer: Mutex<Writer>,
}

#[derive(Default)]
struct Writer {
    running: Option<JoinHandle<()>>,
    /// The block the newest snapshot written (or being written) covers.
    covered: Option<u64>,
}

impl Snapshotter {
    /// `every`: blocks between snapshots (0: only when asked).
    pub fn new(dir: &Path, every: u64, fingerprint: B256, covered: Option<u64>) -> Self {
        Self {
            dir: dir.to_owned(),
            every,
            fingerprint,
            writer: Mutex::new(Writer {
                running: None,
                covered,
            }),
        }
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After a block was appended to the log: every `every` blocks, encodes a
    /// snapshot and writes it on a thread (skipped while the previous one is still
    /// being written: the next one comes soon).
    pub fn after_block(&self, chain: &Chain, position: LogPosition) {
        if self.every == 0 || !position.blocks.is_multiple_of(self.every) {
            return;
        }
        self.in_background(chain, position);
    }

    /// Encodes a snapshot now and writes it on a thread, unless one is being written.
    pub fn in_background(&self, chain: &Chain, position: LogPosition) {
        let mut writer = self.writer();
        if writer.running.as_ref().is_some_and(|h| !h.is_finished()) {
            tracing::debug!(
                block = position.blocks,
                "snapshot skipped: the previous one is still being written"
            );
            return;
        }
        if let Some(h) = writer.running.take() {
            let _ = h.join();
        }
        let bytes = encode(chain, self.fingerprint, position);
        let dir = self.dir.clone();
        let spawned = std::thread::Builder::new()
            .name("devnode-snapshot".into())
            .spawn(move || {
                if let Err(e) = write_file(&dir, &bytes) {
                    tracing::warn!(
                        "cannot write a snapshot of block {}: {e} (a restart replays more of the log)",
                        position.blocks
                    );
                }
            });
        match spawned {
            Ok(h) => {
                writer.running = Some(h);
                writer.covered = Some(position.blocks);
            }
            Err(e) => tracing::warn!("cannot start the snapshot thread: {e}"),
        }
    }

    /// Writes a snapshot of `chain` now (after the one being written, if any) and
    /// returns once it is on disk; nothing to do if the newest covers this block.
    pub fn write_now(&self, chain: &Chain, position: LogPosition) -> Result<(), StoreError> {
        let mut writer = self.writer();
        if let Some(h) = writer.running.take() {
            let _ = h.join();
        }
        if writer.covered == Some(position.blocks) && self.dir.join(SNAPSHOT_FILE).exists() {
            return Ok(());
        }
        write_file(&self.dir, &encode(chain, self.fingerprint, position))?;
        writer.covered = Some(position.blocks);
        Ok(())
    }
}

impl Drop for Snapshotter {
    fn drop(&mut self) {
        if let Some(h) = self.writer().running.take() {
            let _ = h.join();
        }
    }
}

/// tmp file, fsync, rename, fsync the directory.
fn write_file(dir: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = dir.join(TMP_FILE);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Io { path, source }
    };
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    let target = dir.join(SNAPSHOT_FILE);
    std::fs::rename(&tmp, &target).map_err(io(&target))?;
    sync_dir(dir)
}

// --- encoding --------------------------------------------------------------------

#[derive(Default)]
struct Enc(Vec<u8>);

impl Enc {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    fn var(&mut self, v: u64) {
        self.var128(v.into());
    }

    fn var128(&mut self, mut v: u128) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        self.var(b.len() as u64);
        self.raw(b);
    }

    fn b256(&mut self, b: &B256) {
        self.raw(b.as_slice());
    }

    fn addr(&mut self, a: &Address) {
        self.raw(a.as_slice());
    }

    fn u256(&mut self, v: &U256) {
        let be = v.to_be_bytes::<32>();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        self.u8((32 - skip) as u8);
        self.raw(&be[skip..]);
    }

    fn opt_var(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.var(v);
            }
        }
    }

    fn opt_b256(&mut self, v: &Option<B256>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.b256(v);
            }
        }
    }
}

struct Dec<'a> {
    b: &'a [u8],
    at: usize,
}

type DecResult<T> = Result<T, String>;

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> DecResult<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| format!("truncated at body byte {}", self.at))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> DecResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn var128(&mut self) -> DecResult<u128> {
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let byte = self.u8()?;
            v |= u128::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("overlong integer at body byte {}", self.at))
    }

    fn var(&mut self) -> DecResult<u64> {
        u64::try_from(self.var128()?).map_err(|_| format!("integer too large at {}", self.at))
    }

    /// A count or length, which cannot exceed the bytes left.
    fn len(&mut self) -> DecResult<usize> {
        let n = self.var()?;
        if n > (self.b.len() - self.at) as u64 {
            return Err(format!("a count of {n} at body byte {}", self.at));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> DecResult<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    fn b256(&mut self) -> DecResult<B256> {
        Ok(B256::from_slice(self.take(32)?))
    }

    fn addr(&mut self) -> DecResult<Address> {
        Ok(Address::from_slice(self.take(20)?))
    }

    fn u256(&mut self) -> DecResult<U256> {
        let n = self.u8()? as usize;
        if n > 32 {
            return Err(format!("a {n}-byte word at body byte {}", self.at));
        }
        Ok(U256::from_be_slice(self.take(n)?))
    }

    fn flag(&mut self) -> DecResult<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(format!("tag {t} at body byte {}", self.at - 1)),
        }
    }

    fn opt_var(&mut self) -> DecResult<Option<u64>> {
        Ok(if self.flag()? {
            Some(self.var()?)
        } else {
            None
        })
    }

    fn opt_b256(&mut self) -> DecResult<Option<B256>> {
        Ok(if self.flag()? {
            Some(self.b256()?)
        } else {
            None
        })
    }
}

/// Header fields, by bit of the "differs from the parent" mask.
const PARENT_HASH: u32 = 1 << 0;
const OMMERS_HASH: u32 = 1 << 1;
const BENEFICIARY: u32 = 1 << 2;
const STATE_ROOT: u32 = 1 << 3;
const TRANSACTIONS_ROOT: u32 = 1 << 4;
const RECEIPTS_ROOT: u32 = 1 << 5;
const LOGS_BLOOM: u32 = 1 << 6;
const DIFFICULTY: u32 = 1 << 7;
const NUMBER: u32 = 1 << 8;
const GAS_LIMIT: u32 = 1 << 9;
const GAS_USED: u32 = 1 << 10;
const TIMESTAMP: u32 = 1 << 11;
const EXTRA_DATA: u32 = 1 << 12;
const MIX_HASH: u32 = 1 << 13;
const NONCE: u32 = 1 << 14;
const BASE_FEE: u32 = 1 << 15;
const WITHDRAWALS_ROOT: u32 = 1 << 16;
const BLOB_GAS_USED: u32 = 1 << 17;
const EXCESS_BLOB_GAS: u32 = 1 << 18;
const PARENT_BEACON_ROOT: u32 = 1 << 19;
const REQUESTS_HASH: u32 = 1 << 20;
const BLOCK_ACCESS_LIST_HASH: u32 = 1 << 21;
const SLOT_NUMBER: u32 = 1 << 22;
const HEADER_FIELDS: u32 = 23;

/// The header as the fields that differ from `parent`'s (all of them for genesis);
/// the parent hash and the number are implied.
fn put_header(e: &mut Enc, h: &Header, parent: Option<&MinedBlockRecord>) {
    let default = Header::default();
    let base = parent.map_or(&default, |p| &p.header);
    let implied_parent = parent.map_or(B256::ZERO, |p| p.hash);
    let implied_number = parent.map_or(0, |p| p.header.number + 1);
    // Destructured without `..`: a new header field must be added here.
    let Header {
        parent_hash,
        ommers_hash,
        beneficiary,
        state_root,
        transactions_root,
        receipts_root,
        logs_bloom,
        difficulty,
        number,
        gas_limit,
        gas_used,
        timestamp,
        extra_data,
        mix_hash,
        nonce,
        base_fee_per_gas,
        withdrawals_root,
        blob_gas_used,
        excess_blob_gas,
        parent_beacon_block_root,
        requests_hash,
        block_access_list_hash,
        slot_number,
    } = h;
    let mut mask = 0u32;
    let mut differs = |bit: u32, different: bool| {
        if different {
            mask |= bit;
        }
    };
    differs(PARENT_HASH, *parent_hash != implied_parent);
    differs(OMMERS_HASH, *ommers_hash != base.ommers_hash);
    differs(BENEFICIARY, *beneficiary != base.beneficiary);
    differs(STATE_ROOT, *state_root != base.state_root);
    differs(
        TRANSACTIONS_ROOT,
        *transactions_root != base.transactions_root,
    );
    differs(RECEIPTS_ROOT, *receipts_root != base.receipts_root);
    differs(LOGS_BLOOM, *logs_bloom != base.logs_bloom);
    differs(DIFFICULTY, *difficulty != base.difficulty);
    differs(NUMBER, *number != implied_number);
    differs(GAS_LIMIT, *gas_limit != base.gas_limit);
    differs(GAS_USED, *gas_used != base.gas_used);
    differs(TIMESTAMP, *timestamp != base.timestamp);
    differs(EXTRA_DATA, *extra_data != base.extra_data);
    differs(MIX_HASH, *mix_hash != base.mix_hash);
    differs(NONCE, *nonce != base.nonce);
    differs(BASE_FEE, *base_fee_per_gas != base.base_fee_per_gas);
    differs(WITHDRAWALS_ROOT, *withdrawals_root != base.withdrawals_root);
    differs(BLOB_GAS_USED, *blob_gas_used != base.blob_gas_used);
    differs(EXCESS_BLOB_GAS, *excess_blob_gas != base.excess_blob_gas);
    differs(
        PARENT_BEACON_ROOT,
        *parent_beacon_block_root != base.parent_beacon_block_root,
    );
    differs(REQUESTS_HASH, *requests_hash != base.requests_hash);
    differs(
        BLOCK_ACCESS_LIST_HASH,
        *block_access_list_hash != base.block_access_list_hash,
    );
    differs(SLOT_NUMBER, *slot_number != base.slot_number);
    e.var(mask.into());
    let has = |bit: u32| mask & bit != 0;
    if has(PARENT_HASH) {
        e.b256(parent_hash);
    }
    if has(OMMERS_HASH) {
        e.b256(ommers_hash);
    }
    if has(BENEFICIARY) {
        e.addr(beneficiary);
    }
    if has(STATE_ROOT) {
        e.b256(state_root);
    }
    if has(TRANSACTIONS_ROOT) {
        e.b256(transactions_root);
    }
    if has(RECEIPTS_ROOT) {
        e.b256(receipts_root);
    }
    if has(LOGS_BLOOM) {
        e.raw(logs_bloom.as_slice());
    }
    if has(DIFFICULTY) {
        e.u256(difficulty);
    }
    if has(NUMBER) {
        e.var(*number);
    }
    if has(GAS_LIMIT) {
        e.var(*gas_limit);
    }
    if has(GAS_USED) {
        e.var(*gas_used);
    }
    if has(TIMESTAMP) {
        e.var(*timestamp);
    }
    if has(EXTRA_DATA) {
        e.bytes(extra_data);
    }
    if has(MIX_HASH) {
        e.b256(mix_hash);
    }
    if has(NONCE) {
        e.raw(nonce.as_slice());
    }
    if has(BASE_FEE) {
        e.opt_var(*base_fee_per_gas);
    }
    if has(WITHDRAWALS_ROOT) {
        e.opt_b256(withdrawals_root);
    }
    if has(BLOB_GAS_USED) {
        e.opt_var(*blob_gas_used);
    }
    if has(EXCESS_BLOB_GAS) {
        e.opt_var(*excess_blob_gas);
    }
    if has(PARENT_BEACON_ROOT) {
        e.opt_b256(parent_beacon_block_root);
    }
    if has(REQUESTS_HASH) {
        e.opt_b256(requests_hash);
    }
    if has(BLOCK_ACCESS_LIST_HASH) {
        e.opt_b256(block_access_list_hash);
    }
    if has(SLOT_NUMBER) {
        e.opt_var(*slot_number);
    }
}

fn get_header(d: &mut Dec, parent: Option<&MinedBlockRecord>) -> DecResult<Header> {
    let mut h = parent.map_or_else(Header::default, |p| p.header.clone());
    h.parent_hash = parent.map_or(B256::ZERO, |p| p.hash);
    h.number = parent.map_or(0, |p| p.header.number + 1);
    let mask = d.var()?;
    if mask >= 1 << HEADER_FIELDS {
        return Err(format!("header mask {mask:#x}"));
    }
    let has = |bit: u32| mask & u64::from(bit) != 0;
    if has(PARENT_HASH) {
        h.parent_hash = d.b256()?;
    }
    if has(OMMERS_HASH) {
        h.ommers_hash = d.b256()?;
    }
    if has(BENEFICIARY) {
        h.beneficiary = d.addr()?;
    }
    if has(STATE_ROOT) {
        h.state_root = d.b256()?;
    }
    if has(TRANSACTIONS_ROOT) {
        h.transactions_root = d.b256()?;
    }
    if has(RECEIPTS_ROOT) {
        h.receipts_root = d.b256()?;
    }
    if has(LOGS_BLOOM) {
        h.logs_bloom = Bloom::from_slice(d.take(256)?);
    }
    if has(DIFFICULTY) {
        h.difficulty = d.u256()?;
    }
    if has(NUMBER) {
        h.number = d.var()?;
    }
    if has(GAS_LIMIT) {
        h.gas_limit = d.var()?;
    }
    if has(GAS_USED) {
        h.gas_used = d.var()?;
    }
    if has(TIMESTAMP) {
        h.timestamp = d.var()?;
    }
    if has(EXTRA_DATA) {
        h.extra_data = Bytes::copy_from_slice(d.bytes()?);
    }
    if has(MIX_HASH) {
        h.mix_hash = d.b256()?;
    }
    if has(NONCE) {
        h.nonce = B64::from_slice(d.take(8)?);
    }
    if has(BASE_FEE) {
        h.base_fee_per_gas = d.opt_var()?;
    }
    if has(WITHDRAWALS_ROOT) {
        h.withdrawals_root = d.opt_b256()?;
    }
    if has(BLOB_GAS_USED) {
        h.blob_gas_used = d.opt_var()?;
    }
    if has(EXCESS_BLOB_GAS) {
        h.excess_blob_gas = d.opt_var()?;
    }
    if has(PARENT_BEACON_ROOT) {
        h.parent_beacon_block_root = d.opt_b256()?;
    }
    if has(REQUESTS_HASH) {
        h.requests_hash = d.opt_b256()?;
    }
    if has(BLOCK_ACCESS_LIST_HASH) {
        h.block_access_list_hash = d.opt_b256()?;
    }
    if has(SLOT_NUMBER) {
        h.slot_number = d.opt_var()?;
    }
    Ok(h)
}

fn put_log(e: &mut Enc, log: &Log) {
    e.addr(&log.address);
    e.var(log.topics().len() as u64);
    for t in log.topics() {
        e.b256(t);
    }
    e.bytes(&log.data.data);
}

fn get_log(d: &mut Dec) -> DecResult<Log> {
    let address = d.addr()?;
    let n = d.len()?;
    let topics = (0..n).map(|_| d.b256()).collect::<DecResult<Vec<_>>>()?;
    let data = Bytes::copy_from_slice(d.bytes()?);
    let data = LogData::new(topics, data).ok_or("a log with more than 4 topics")?;
    Ok(Log { address, data })
}

/// A mined transaction; its block number and index are implied by its place.
fn put_tx(e: &mut Enc, tx: &MinedTx) {
    e.bytes(&tx.tx.encoded_2718());
    e.addr(&tx.from);
    e.b256(&tx.hash);
    e.u8(tx.success.into());
    e.var(tx.gas_used);
    e.var(tx.cumulative_gas_used);
    e.var(tx.first_log_index);
    match &tx.contract_address {
        None => e.u8(0),
        Some(a) => {
            e.u8(1);
            e.addr(a);
        }
    }
    e.var128(tx.effective_gas_price);
    e.var(tx.logs.len() as u64);
    for log in &tx.logs {
        put_log(e, log);
    }
}

fn get_tx(d: &mut Dec, block_number: u64, index: u64) -> DecResult<MinedTx> {
    let mut raw = d.bytes()?;
    let tx = TxEnvelope::decode_2718(&mut raw).map_err(|e| format!("a transaction: {e}"))?;
    if !raw.is_empty() {
        return Err("bytes after a transaction".into());
    }
    let from = d.addr()?;
    let hash = d.b256()?;
    let success = d.flag()?;
    let gas_used = d.var()?;
    let cumulative_gas_used = d.var()?;
    let first_log_index = d.var()?;
    let contract_address = if d.flag()? { Some(d.addr()?) } else { None };
    let effective_gas_price = d.var128()?;
    let n = d.len()?;
    let logs = (0..n).map(|_| get_log(d)).collect::<DecResult<Vec<_>>>()?;
    Ok(MinedTx {
        tx,
        from,
        hash,
        block_number,
        index,
        success,
        gas_used,
        cumulative_gas_used,
        logs,
        first_log_index,
        contract_address,
        effective_gas_price,
    })
}

fn account_state_tag(s: &AccountState) -> u8 {
    match s {
        AccountState::NotExisting => 0,
        AccountState::Touched => 1,
        AccountState::StorageCleared => 2,
        AccountState::None => 3,
    }
}

fn account_state_of(tag: u8) -> DecResult<AccountState> {
    Ok(match tag {
        0 => AccountState::NotExisting,
        1 => AccountState::Touched,
        2 => AccountState::StorageCleared,
        3 => AccountState::None,
        t => return Err(format!("account state {t}")),
    })
}

/// Code of an account: none, the contract stored under its code hash, or its own.
const CODE_NONE: u8 = 0;
const CODE_BY_HASH: u8 = 1;
const CODE_INLINE: u8 = 2;

fn put_state(e: &mut Enc, db: &CacheDB<EmptyDB>) {
    let cache = &db.cache;
    let mut contracts: Vec<_> = cache.contracts.iter().collect();
    contracts.sort_unstable_by_key(|(h, _)| **h);
    e.var(contracts.len() as u64);
    for (hash, code) in contracts {
        e.b256(hash);
        e.bytes(code.original_byte_slice());
    }
    let mut accounts: Vec<_> = cache.accounts.iter().collect();
    accounts.sort_unstable_by_key(|(a, _)| **a);
    e.var(accounts.len() as u64);
    for (address, account) in accounts {
        let info = &account.info;
        e.addr(address);
        e.u8(account_state_tag(&account.account_state));
        e.u256(&info.balance);
        e.var(info.nonce);
        e.b256(&info.code_hash);
        match &info.code {
            None => e.u8(CODE_NONE),
            Some(code) if cache.contracts.get(&info.code_hash) == Some(code) => e.u8(CODE_BY_HASH),
            Some(code) => {
                e.u8(CODE_INLINE);
                e.bytes(code.original_byte_slice());
            }
        }
        let mut storage: Vec<_> = account.storage.iter().collect();
        storage.sort_unstable_by_key(|(k, _)| **k);
        e.var(storage.len() as u64);
        for (k, v) in storage {
            e.u256(k);
            e.u256(v);
        }
    }
    e.var(cache.logs.len() as u64);
    for log in &cache.logs {
        put_log(e, log);
    }
    let mut hashes: Vec<_> = cache.block_hashes.iter().collect();
    hashes.sort_unstable_by_key(|(n, _)| **n);
    e.var(hashes.len() as u64);
    for (n, h) in hashes {
        e.u256(n);
        e.b256(h);
    }
}

fn get_code(d: &mut Dec) -> DecResult<Bytecode> {
    Bytecode::new_raw_checked(Bytes::copy_from_slice(d.bytes()?))
        .map_err(|e| format!("bytecode: {e:?}"))
}

fn get_state(d: &mut Dec) -> DecResult<CacheDB<EmptyDB>> {
    let mut db = CacheDB::new(EmptyDB::default());
    let cache = &mut db.cache;
    cache.contracts.clear();
    for _ in 0..d.len()? {
        let hash = d.b256()?;
        let code = get_code(d)?;
        cache.contracts.insert(hash, code);
    }
    for _ in 0..d.len()? {
        let address = d.addr()?;
        let account_state = account_state_of(d.u8()?)?;
        let balance = d.u256()?;
        let nonce = d.var()?;
        let code_hash = d.b256()?;
        let code = match d.u8()? {
            CODE_NONE => None,
            CODE_BY_HASH => Some(
                cache
                    .contracts
                    .get(&code_hash)
                    .cloned()
                    .ok_or("an account's code is not among the contracts")?,
            ),
            CODE_INLINE => Some(get_code(d)?),
            t => return Err(format!("code tag {t}")),
        };
        let mut account = DbAccount {
            info: AccountInfo {
                balance,
                nonce,
                code_hash,
                code,
                ..Default::default()
            },
            account_state,
            ..Default::default()
        };
        for _ in 0..d.len()? {
            let k = d.u256()?;
            let v = d.u256()?;
            account.storage.insert(k, v);
        }
        cache.accounts.insert(address, account);
    }
    for _ in 0..d.len()? {
        let log = get_log(d)?;
        cache.logs.push(log);
    }
    for _ in 0..d.len()? {
        let n = d.u256()?;
        let h = d.b256()?;
        cache.block_hashes.insert(n, h);
    }
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_words_round_trip() {
        let mut e = Enc::default();
        let ints = [0u64, 1, 127, 128, 300, u32::MAX.into(), u64::MAX];
        for v in ints {
            e.var(v);
        }
        e.var128(u128::MAX);
        let words = [U256::ZERO, U256::from(1), U256::MAX, U256::from(1) << 200];
        for w in &words {
            e.u256(w);
        }
        let mut d = Dec { b: &e.0, at: 0 };
        for v in ints {
            assert_eq!(d.var().unwrap(), v);
        }
        assert_eq!(d.var128().unwrap(), u128::MAX);
        for w in &words {
            assert_eq!(d.u256().unwrap(), *w);
        }
        assert_eq!(d.at, e.0.len());
    }

    #[test]
    fn a_truncated_or_damaged_file_is_corrupt() {
        let mut e = Enc::default();
        e.var(1);
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&(e.0.len() as u64).to_be_bytes());
        file.extend_from_slice(&CRC32C.checksum(&e.0).to_be_bytes());
        file.extend_from_slice(&e.0);
        assert!(matches!(decode_file(&file), Err(LoadError::Corrupt(_))));
        assert!(matches!(
            decode_file(&file[..20]),
            Err(LoadError::Corrupt(_))
        ));
        let mut other = file.clone();
        other[7] = b'9';
        assert!(matches!(
            decode_file(&other),
            Err(LoadError::OtherVersion(_))
        ));
    }
}
