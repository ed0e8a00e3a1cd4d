//! The block store's writing thread. Creating and writing 4096 files for a GiB
//! costs the caller 1.5-4 s of system time, and each intermediate sync waits
//! ~0.5 s on the disk: on the sealing thread that stalls the whole pipeline.
//! Here the files are written, made durable and renamed on a thread of their
//! own, while `put` only copies the block into a bounded queue.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Blocks queued for the thread: with 256 KiB blocks, 2 MiB.
const QUEUE: usize = 8;
/// Blocks (256 KiB each in a DAG) held back before an intermediate sync: bounds
/// both the dirty data one sync flushes and the bookkeeping for a huge file.
const MAX_PENDING: usize = 1024;

enum Cmd {
    Put {
        tmp: PathBuf,
        path: PathBuf,
        block: Vec<u8>,
    },
    /// Answers once every earlier `Put` is written (not necessarily durable).
    Barrier(SyncSender<()>),
    /// Answers once every earlier `Put` is durable under its CID.
    Sync(SyncSender<io::Result<()>>),
}

/// The handle of one store's writing thread.
#[derive(Debug)]
pub(super) struct Writer {
    tx: Option<SyncSender<Cmd>>,
    thread: Option<JoinHandle<()>>,
    /// The first error the thread met, reported by the next call.
    failure: Arc<Mutex<Option<io::Error>>>,
}

impl Writer {
    /// Starts the thread for the store in `dir`.
    pub(super) fn spawn(dir: PathBuf) -> io::Result<Self> {
        let (tx, rx) = sync_channel(QUEUE);
        let failure = Arc::new(Mutex::new(None));
        let shared = Arc::clone(&failure);
        let thread = std::thread::Builder::new()
            .name("vault-blocks".into())
            .spawn(move || run(dir, rx, shared))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            failure,
        })
    }

    /// Queues `block` for `tmp`, to be renamed to `path` once durable.
    pub(super) fn put(&self, tmp: PathBuf, path: PathBuf, block: Vec<u8>) -> io::Result<()> {
        self.check()?;
        self.send(Cmd::Put { tmp, path, block })
    }

    /// Waits until every queued block is on disk, under its temporary name or its CID.
    pub(super) fn barrier(&self) -> io::Result<()> {
        let (reply, answer) = sync_channel(1);
        self.send(Cmd::Barrier(reply))?;
        answer.recv().map_err(|_| gone())?;
        self.check()
    }

    /// Waits until every queued block is durable under its CID.
    pub(super) fn sync(&self) -> io::Result<()> {
        let (reply, answer) = sync_channel(1);
        self.send(Cmd::Sync(reply))?;
        let synced = answer.recv().map_err(|_| gone())?;
        self.check()?;
        synced
    }

    fn send(&self, cmd: Cmd) -> io::Result<()> {
        let tx = self.tx.as_ref().ok_or_else(gone)?;
        tx.send(cmd)
            .map_err(|_| self.take_failure().unwrap_or_else(gone))
    }

    fn check(&self) -> io::Result<()> {
        self.take_failure().map_or(Ok(()), Err)
    }

    fn take_failure(&self) -> Option<io::Error> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Best effort, as for any writer dropped without a sync.
        let _ = self.sync();
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn gone() -> io::Error {
    io::Error::other("the block store's writing thread stopped")
}

/// The thread: writes blocks, syncs and renames them in batches.
fn run(dir: PathBuf, rx: Receiver<Cmd>, failure: Arc<Mutex<Option<io::Error>>>) {
    let mut batch = Batch {
        dir,
        files: Vec::new(),
        names: HashSet::new(),
        broken: false,
    };
    let fail = |e: io::Error| {
        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
    };
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Cmd::Put { tmp, path, block } => {
                if let Err(e) = batch.write(tmp, path, &block) {
                    batch.broken = true;
                    fail(e);
                } else if batch.files.len() >= MAX_PENDING {
                    if let Err(e) = batch.commit() {
                        fail(e);
                    }
                }
            }
            Cmd::Barrier(reply) => {
                let _ = reply.send(());
            }
            Cmd::Sync(reply) => {
                let _ = reply.send(batch.commit());
            }
        }
    }
}

/// Blocks written since the last commit.
struct Batch {
    dir: PathBuf,
    /// (temporary, final) paths.
    files: Vec<(PathBuf, PathBuf)>,
    names: HashSet<PathBuf>,
    /// A write failed: nothing more is written until the caller has seen the
    /// error and synced, so no block goes under its CID half-written.
    broken: bool,
}

impl Batch {
    fn write(&mut self, tmp: PathBuf, path: PathBuf, block: &[u8]) -> io::Result<()> {
        if self.broken || self.names.contains(&path) || path.exists() {
            return Ok(());
        }
        std::fs::File::create(&tmp)?.write_all(block)?;
        self.names.insert(path.clone());
        self.files.push((tmp, path));
        Ok(())
    }

    /// Makes the batch durable, then renames it to the CIDs and syncs the directory.
    fn commit(&mut self) -> io::Result<()> {
        let files = std::mem::take(&mut self.files);
        self.names.clear();
        if std::mem::take(&mut self.broken) {
            for (tmp, _) in files {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(io::Error::other("a block write failed earlier"));
        }
        if files.is_empty() {
            return Ok(());
        }
        flush(&self.dir, &files)?;
        for (tmp, path) in files {
            std::fs::rename(tmp, path)?;
        }
        // The renames themselves, so the blocks are found under their CIDs after a crash.
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

/// Gets the batch's bytes onto the disk.
#[cfg(target_os = "linux")]
fn flush(dir: &std::path::Path, _: &[(PathBuf, PathBuf)]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // One writeback of the whole file system instead of a journal commit per
    // file. It also flushes other programs' dirty pages, which they would have
    // paid for later anyway.
    let dir = std::fs::File::open(dir)?;
    // SAFETY: `dir` is an open descriptor for the duration of the call.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Gets the batch's bytes onto the disk.
#[cfg(not(target_os = "linux"))]
fn flush(_: &std::path::Path, files: &[(PathBuf, PathBuf)]) -> io::Result<()> {
    for (tmp, _) in files {
        std::fs::File::open(tmp)?.sync_data()?;
    }
    Ok(())
}
