//! Reads that what they read from cannot make endless: a remote node's
//! `dag/export` is taken only as far as the DAG asked for goes, and the block
//! store reads regular files of bounded size only, never what a block file was
//! replaced with (a symbolic link to /dev/zero, a FIFO, a huge file).

use careledger_vault::ipfs::{
    add, export_car, BlockStore, Cid, FsBlockStore, KuboClient, MemBlockStore,
};
use careledger_vault::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vault-bounds-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A CAR section: the CID and its block behind their length.
fn section(cid: &Cid, block: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    careledger_vault::ipfs::car::write_section(&mut out, cid, block).unwrap();
    out
}

/// The `n`th of an endless supply of valid raw blocks that belong to no DAG asked for.
fn unrelated(n: u64) -> Vec<u8> {
    let block: Vec<u8> = (0..4096u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ n) as u8)
        .chain(n.to_le_bytes())
        .collect();
    let mut store = MemBlockStore::default();
    let cid = add(&mut &block[..], &mut store).unwrap();
    section(&cid, &store.get(&cid).unwrap())
}

/// A stand-in IPFS node whose `dag/export` answers with `head`, then with the
/// sections `next` makes, without end, until the client hangs up. Returns its
/// URL and how many bytes it managed to send.
fn streaming_node(head: Vec<u8>, next: fn(u64) -> Vec<u8>) -> (String, Arc<AtomicU64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            // No length: the body runs until the connection closes, as a stream does.
            let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ipld.car\r\nConnection: close\r\n\r\n".to_vec();
            out.extend_from_slice(&head);
            let mut n = 0;
            while conn.write_all(&out).is_ok() {
                counter.fetch_add(out.len() as u64, Ordering::Relaxed);
                out = next(n);
                n += 1;
            }
        }
    });
    (url, sent)
}

/// A DAG of three leaves, its root block and CAR header framed.
fn dag() -> (Cid, MemBlockStore, Vec<u8>) {
    let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let mut store = MemBlockStore::default();
    let root = add(&mut &data[..], &mut store).unwrap();
    let mut car = Vec::new();
    export_car(&root, &store, &mut car).unwrap();
    (root, store, car)
}

/// The framed header at the front of a CAR (one section; its length fits one byte).
fn header_of(car: &[u8]) -> Vec<u8> {
    car[..1 + car[0] as usize].to_vec()
}

#[test]
fn a_node_streaming_unrelated_blocks_is_cut_off_at_the_first_and_none_is_stored() {
    let (root, store, car) = dag();
    let header = header_of(&car);
    let root_section = section(&root, &store.get(&root).unwrap());
    for (head, stored) in [
        (header.clone(), 0),
        ([&header[..], &root_section[..]].concat(), 1),
    ] {
        let (url, sent) = streaming_node(head, unrelated);
        let dir = TempDir::new("stream");
        let mut local = FsBlockStore::open(&dir.0).unwrap();
        let node = KuboClient::new(&url)
            .unwrap()
            .with_idle_timeout(Duration::from_secs(2));
        let started = Instant::now();
        let err = node.export(&root, &mut local).unwrap_err().to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(err.contains("is not part of the DAG asked for"), "{err}");
        assert!(!err.contains('\n'));
        local.sync().unwrap();
        assert_eq!(files(&dir.0).len(), stored, "only the root, if it came");
        // The kernel's buffers hold a few megabytes; the node did not get far past them.
        assert!(sent.load(Ordering::Relaxed) < 64 << 20);
    }
}

#[test]
fn a_node_that_repeats_a_block_is_stopped_at_the_size_the_root_declares() {
    let (root, store, car) = dag();
    let header = header_of(&car);
    let (url, _) = streaming_node(
        [&header[..], &section(&root, &store.get(&root).unwrap())[..]].concat(),
        |_| {
            // The first leaf of the same DAG, again and again.
            static LEAF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
            LEAF.get_or_init(|| {
                let (root, store, _) = dag();
                let first = first_link(&store.get(&root).unwrap());
                section(&first, &store.get(&first).unwrap())
            })
            .clone()
        },
    );
    let node = KuboClient::new(&url).unwrap();
    let mut local = MemBlockStore::default();
    let err = node.export(&root, &mut local).unwrap_err().to_string();
    assert!(err.contains("bytes its root declares"), "{err}");
    assert_eq!(local.len(), 2, "the root and the one leaf");
}

/// The first link of a dag-pb node: field 2 (a PBLink), its field 1 (the CID).
fn first_link(block: &[u8]) -> Cid {
    assert_eq!(block[0], 0x12, "a PBNode starts with its links");
    let mut rest = &block[1..];
    let _link_len = read_varint(&mut rest);
    assert_eq!(rest[0], 0x0a, "a PBLink starts with its hash");
    rest = &rest[1..];
    let len = read_varint(&mut rest) as usize;
    Cid::try_from(&rest[..len]).unwrap()
}

fn read_varint(input: &mut &[u8]) -> u64 {
    let mut n = 0;
    for i in 0.. {
        let byte = input[0];
        *input = &input[1..];
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    n
}

#[test]
fn a_silent_node_is_given_up_on_after_the_idle_timeout() {
    // Accepts, then never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let (root, _, _) = dag();
    let node = KuboClient::new(&url)
        .unwrap()
        .with_idle_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let err = node
        .export(&root, &mut MemBlockStore::default())
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("no answer within 1 s"), "{err}");
    let err = node.get(&root).unwrap_err().to_string();
    assert!(err.contains("no answer within 1 s"), "{err}");
}

/// Runs `read` on a thread and fails the test if it takes longer than a few
/// seconds: a read that hangs must not hang the test run.
fn within_seconds<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the read finished within 5 s")
}

/// A store holding a three-leaf DAG: its directory, the root, and a leaf's file.
fn stored_dag(name: &str) -> (TempDir, Cid, PathBuf) {
    let dir = TempDir::new(name);
    let mut store = FsBlockStore::open(&dir.0).unwrap();
    let data: Vec<u8> = (0..600_000u32).map(|i| (i % 241) as u8).collect();
    let root = add(&mut &data[..], &mut store).unwrap();
    let leaf = files(&dir.0)
        .into_iter()
        .find(|f| f.starts_with("bafkrei"))
        .expect("a raw leaf");
    let leaf = dir.0.join(leaf);
    (dir, root, leaf)
}

fn cat_error(dir: &Path, root: Cid) -> String {
    let dir = dir.to_path_buf();
    within_seconds(move || {
        let store = FsBlockStore::open(&dir).unwrap();
        careledger_vault::ipfs::cat(&root, &store, &mut std::io::sink())
            .unwrap_err()
            .to_string()
    })
}

#[test]
#[cfg(unix)]
fn a_block_file_replaced_by_a_symlink_to_dev_zero_is_refused_unread() {
    let (dir, root, leaf) = stored_dag("zero");
    std::fs::remove_file(&leaf).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &leaf).unwrap();
    let err = cat_error(&dir.0, root);
    assert!(err.contains("is a symbolic link: refused"), "{err}");
    // A link to a regular file is refused all the same: blocks are files of the store's own.
    std::fs::remove_file(&leaf).unwrap();
    std::fs::write(dir.0.join("elsewhere"), b"x").unwrap();
    std::os::unix::fs::symlink(dir.0.join("elsewhere"), &leaf).unwrap();
    assert!(cat_error(&dir.0, root).contains("symbolic link"));
}

#[test]
#[cfg(unix)]
fn a_block_file_replaced_by_a_fifo_is_refused_without_waiting_for_a_writer() {
    let (dir, root, leaf) = stored_dag("fifo");
    std::fs::remove_file(&leaf).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&leaf)
        .status()
        .unwrap();
    assert!(made.success());
    let err = cat_error(&dir.0, root);
    assert!(err.contains("is not a regular file"), "{err}");
    // The root's own file as a directory: refused the same way.
    let root_file = dir.0.join(root.to_string());
    std::fs::remove_file(&root_file).unwrap();
    std::fs::create_dir(&root_file).unwrap();
    assert!(cat_error(&dir.0, root).contains("is not a regular file"));
}

#[test]
fn a_block_file_over_the_block_limit_is_refused_unread() {
    let (dir, root, leaf) = stored_dag("huge");
    // Sparse: 5 GB on paper, nothing on disk.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&leaf)
        .unwrap()
        .set_len(5 << 30)
        .unwrap();
    let err = cat_error(&dir.0, root);
    assert!(err.contains("over the 4194304-byte block limit"), "{err}");
}

#[test]
fn reading_a_store_that_does_not_exist_creates_nothing() {
    let dir = TempDir::new("absent");
    let (root, _, _) = dag();
    let err = cat_error(&dir.0, root);
    assert!(matches!(
        FsBlockStore::open(&dir.0).unwrap().get(&root),
        Err(Error::MissingBlock(_))
    ));
    assert!(err.contains("is not in the store"), "{err}");
    assert!(!dir.0.exists());
}
