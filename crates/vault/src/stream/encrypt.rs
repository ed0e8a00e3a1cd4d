//! The encrypting side of [`super::encrypt`], on two threads (one on WebAssembly).
//!
//! Sealing is CPU-bound: XChaCha20-Poly1305 and the sha-256 of the ciphertext
//! cost about as much as what the caller does with the ciphertext (the DAG's
//! block hashes and the writes). So a worker thread encrypts and hashes while
//! the calling thread reads the next chunk and writes the previous one. The
//! reader and writer stay on the calling thread: they need not be `Send`, which
//! keeps `encrypt`'s and `record::seal`'s signatures as they were.
//!
//! A fixed pool of [`POOL`] chunk buffers circulates between the threads and
//! each channel can hold all of them, so no send ever blocks for long, memory
//! stays at `POOL` chunks, and plaintext buffers are reused, never reallocated.

use super::{Sealed, CHUNK, TAG};
use crate::Error;
use chacha20poly1305::aead::stream::EncryptorBE32;
use chacha20poly1305::XChaCha20Poly1305;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Chunk buffers in flight: enough that neither thread waits on the other's
/// jitter, few enough to stay a fraction of a MiB.
const POOL: usize = 8;

/// A plaintext chunk to seal, and whether it is the stream's last.
type Job = (Vec<u8>, bool);

/// Encrypts `plaintext` into `out` after `header` (already written by the caller).
/// WebAssembly has no threads (`std::thread::spawn` panics there): it seals inline.
pub(super) fn run(
    encryptor: EncryptorBE32<XChaCha20Poly1305>,
    aad: &[u8],
    header: &[u8],
    plaintext: &mut impl Read,
    out: &mut impl Write,
) -> Result<Sealed, Error> {
    if cfg!(target_family = "wasm") {
        inline(encryptor, aad, header, plaintext, out)
    } else {
        threaded(encryptor, aad, header, plaintext, out)
    }
}

/// One thread: read a chunk, seal it, hash it, write it. The same ciphertext as
/// [`threaded`] for the same encryptor.
fn inline(
    mut encryptor: EncryptorBE32<XChaCha20Poly1305>,
    aad: &[u8],
    header: &[u8],
    plaintext: &mut impl Read,
    out: &mut impl Write,
) -> Result<Sealed, Error> {
    let mut hash = Sha256::new();
    hash.update(header);
    let mut len = header.len() as u64;
    let mut current = Vec::with_capacity(CHUNK + TAG);
    let mut next = Vec::with_capacity(CHUNK + TAG);
    fill(plaintext, &mut current)?;
    loop {
        next.clear();
        // A short chunk means end of input, so `next` then comes back empty.
        fill(plaintext, &mut next)?;
        if next.is_empty() {
            break;
        }
        encryptor
            .encrypt_next_in_place(aad, &mut current)
            .map_err(|_| Error::TooLong)?;
        hash.update(&current);
        len += current.len() as u64;
        out.write_all(&current)?;
        std::mem::swap(&mut current, &mut next);
    }
    encryptor
        .encrypt_last_in_place(aad, &mut current)
        .map_err(|_| Error::TooLong)?;
    hash.update(&current);
    len += current.len() as u64;
    out.write_all(&current)?;
    out.flush()?;
    Ok(Sealed {
        sha256: hash.finalize().into(),
        ciphertext_len: len,
    })
}

/// Two threads, as the module's documentation describes.
fn threaded(
    encryptor: EncryptorBE32<XChaCha20Poly1305>,
    aad: &[u8],
    header: &[u8],
    plaintext: &mut impl Read,
    out: &mut impl Write,
) -> Result<Sealed, Error> {
    std::thread::scope(|scope| {
        let (jobs_tx, jobs_rx) = sync_channel::<Job>(POOL);
        let (done_tx, done_rx) = sync_channel::<Vec<u8>>(POOL);
        let worker = scope.spawn(move || seal_chunks(encryptor, aad, header, jobs_rx, done_tx));
        let fed = feed(plaintext, out, jobs_tx, done_rx);
        // The worker ends once `feed` has dropped its channel ends, even on error.
        let sealed = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match (fed, sealed) {
            (Ok(()), Ok(sealed)) => Ok(sealed),
            // A hung-up channel on one side is the other side's error: report that one.
            (Err(Hangup::Io(e)), _) | (Ok(()) | Err(Hangup::Worker), Err(e)) => Err(e),
            // The worker only succeeds after the last chunk, when nothing can hang up.
            (Err(Hangup::Worker), Ok(_)) => Err(stopped()),
        }
    })
}

/// Why the calling thread stopped early.
enum Hangup {
    Io(Error),
    /// The worker dropped its channel: its own result says why.
    Worker,
}

impl From<std::io::Error> for Hangup {
    fn from(e: std::io::Error) -> Self {
        Hangup::Io(e.into())
    }
}

/// The calling thread: reads chunks, hands them over, writes what comes back in order.
fn feed(
    plaintext: &mut impl Read,
    out: &mut impl Write,
    jobs: SyncSender<Job>,
    done: Receiver<Vec<u8>>,
) -> Result<(), Hangup> {
    let mut spare = POOL;
    let mut in_flight = 0usize;
    let mut take_buffer = |in_flight: &mut usize, out: &mut dyn Write| -> Result<Vec<u8>, Hangup> {
        if spare > 0 {
            spare -= 1;
            return Ok(Vec::with_capacity(CHUNK + TAG));
        }
        let mut sealed = done.recv().map_err(|_| Hangup::Worker)?;
        *in_flight -= 1;
        out.write_all(&sealed)?;
        sealed.clear();
        Ok(sealed)
    };
    let mut current = take_buffer(&mut in_flight, out)?;
    fill(plaintext, &mut current)?;
    loop {
        let mut next = take_buffer(&mut in_flight, out)?;
        // A short chunk means end of input, so `next` then comes back empty.
        fill(plaintext, &mut next)?;
        let last = next.is_empty();
        jobs.send((current, last)).map_err(|_| Hangup::Worker)?;
        in_flight += 1;
        if last {
            break;
        }
        current = next;
    }
    for _ in 0..in_flight {
        let sealed = done.recv().map_err(|_| Hangup::Worker)?;
        out.write_all(&sealed)?;
    }
    out.flush()?;
    Ok(())
}

/// Reads up to a chunk into the empty `buf` (less only at end of input).
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<()> {
    reader.take(CHUNK as u64).read_to_end(buf)?;
    Ok(())
}

/// The worker: seals chunks in order, hashing the ciphertext as it goes.
fn seal_chunks(
    mut encryptor: EncryptorBE32<XChaCha20Poly1305>,
    aad: &[u8],
    header: &[u8],
    jobs: Receiver<Job>,
    done: SyncSender<Vec<u8>>,
) -> Result<Sealed, Error> {
    let mut hash = Sha256::new();
    hash.update(header);
    let mut len = header.len() as u64;
    while let Ok((mut chunk, last)) = jobs.recv() {
        if last {
            encryptor
                .encrypt_last_in_place(aad, &mut chunk)
                .map_err(|_| Error::TooLong)?;
            hash.update(&chunk);
            len += chunk.len() as u64;
            // A closed channel means the caller failed; its error is the one reported.
            let _ = done.send(chunk);
            return Ok(Sealed {
                sha256: hash.finalize().into(),
                ciphertext_len: len,
            });
        }
        encryptor
            .encrypt_next_in_place(aad, &mut chunk)
            .map_err(|_| Error::TooLong)?;
        hash.update(&chunk);
        len += chunk.len() as u64;
        let _ = done.send(chunk);
    }
    // The caller stopped sending before the last chunk: it failed, and says why.
    Err(stopped())
}

/// The error of a side whose partner stopped first (never the one reported when
/// the partner has its own).
fn stopped() -> Error {
    Error::Io(std::io::Error::other("record encryption stopped early"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::KeyInit;

    fn encryptor() -> EncryptorBE32<XChaCha20Poly1305> {
        let cipher = XChaCha20Poly1305::new(&[9u8; 32].into());
        EncryptorBE32::from_aead(cipher, (&[4u8; 19]).into())
    }

    /// The path WebAssembly takes, checked on the host against the threaded one.
    #[test]
    fn inline_and_threaded_sealing_agree_byte_for_byte() {
        let (aad, header) = (b"aad".as_slice(), b"header".as_slice());
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 20 * CHUNK + 5] {
            let data: Vec<u8> = (0..len).map(|i| (i % 241) as u8).collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let sa = inline(encryptor(), aad, header, &mut &data[..], &mut a).unwrap();
            let sb = threaded(encryptor(), aad, header, &mut &data[..], &mut b).unwrap();
            assert!(a == b, "length {len}");
            assert_eq!(sa, sb);
            assert_eq!(sa.ciphertext_len, (header.len() + a.len()) as u64);
        }
    }
}
