//! Streaming record encryption: XChaCha20-Poly1305 in the STREAM construction
//! (`aead::stream`, big-endian 32-bit counter and last-chunk flag), so reordered,
//! dropped or truncated chunks fail to decrypt and memory stays at a few chunks.
//!
//! Format: `"CLV1"` ‖ chunk size (u32 BE) ‖ 19-byte nonce prefix, then the chunks,
//! each `chunk size` bytes of plaintext plus a 16-byte tag, the last one shorter
//! (possibly empty). Every chunk's associated data is the record context and the
//! header, so neither can be swapped.

use crate::{Error, RecordContext, RecordKey};
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::Payload;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use rand_core::{OsRng, RngCore, UnwrapErr};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

mod encrypt;

const MAGIC: &[u8; 4] = b"CLV1";
const NONCE_PREFIX: usize = 19;
const HEADER: usize = 4 + 4 + NONCE_PREFIX;
const TAG: usize = 16;
/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;

/// What encryption produced besides the ciphertext itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    /// sha-256 of the whole ciphertext, header included: the record's content hash on chain.
    pub sha256: [u8; 32],
    /// Bytes written to the output, header and tags included.
    pub ciphertext_len: u64,
}

/// Reads up to `n` bytes (fewer only at end of input).
fn read_up_to(reader: &mut impl Read, n: usize) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Encrypts everything `plaintext` yields into `out` under `key`, bound to `ctx`.
/// Encryption and the ciphertext hash run on a second thread (see `encrypt.rs`).
pub fn encrypt(
    key: &RecordKey,
    ctx: &RecordContext,
    plaintext: &mut impl Read,
    out: &mut impl Write,
) -> Result<Sealed, Error> {
    let mut prefix = [0u8; NONCE_PREFIX];
    UnwrapErr(OsRng).fill_bytes(&mut prefix);
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&(CHUNK as u32).to_be_bytes());
    header.extend_from_slice(&prefix);
    let mut aad = ctx.aad();
    aad.extend_from_slice(&header);

    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let encryptor = EncryptorBE32::from_aead(cipher, (&prefix).into());
    out.write_all(&header)?;
    encrypt::run(encryptor, &aad, &header, plaintext, out)
}

/// Decrypts `ciphertext` into `out`. Plaintext is written chunk by chunk as each
/// authenticates; on an error, what was written must be discarded (write to a
/// temporary file and rename it only on success).
pub fn decrypt(
    key: &RecordKey,
    ctx: &RecordContext,
    ciphertext: &mut impl Read,
    out: &mut impl Write,
) -> Result<(), Error> {
    let header = read_up_to(ciphertext, HEADER)?;
    if header.len() != HEADER || &header[..4] != MAGIC {
        return Err(Error::BadHeader);
    }
    let chunk = u32::from_be_bytes(header[4..8].try_into().expect("4 bytes")) as usize;
    if chunk != CHUNK {
        return Err(Error::BadHeader);
    }
    let prefix: [u8; NONCE_PREFIX] = header[8..].try_into().expect("19 bytes");
    let mut aad = ctx.aad();
    aad.extend_from_slice(&header);
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let mut decryptor = DecryptorBE32::from_aead(cipher, (&prefix).into());
    let mut current = read_up_to(ciphertext, chunk + TAG)?;
    loop {
        let next = read_up_to(ciphertext, chunk + TAG)?;
        if next.is_empty() {
            let plain = decryptor
                .decrypt_last(Payload {
                    msg: &current,
                    aad: &aad,
                })
                .map_err(|_| Error::Decryption)?;
            out.write_all(&plain)?;
            break;
        }
        if current.len() != chunk + TAG {
            return Err(Error::Decryption);
        }
        let plain = decryptor
            .decrypt_next(Payload {
                msg: &current,
                aad: &aad,
            })
            .map_err(|_| Error::Decryption)?;
        out.write_all(&plain)?;
        current = next;
    }
    out.flush()?;
    Ok(())
}

/// The sha-256 of a ciphertext as [`Sealed::sha256`] computes it, to check what a
/// store returned against the hash on chain before decrypting.
pub fn ciphertext_sha256(ciphertext: &mut impl Read) -> Result<[u8; 32], Error> {
    let mut hash = Sha256::new();
    std::io::copy(ciphertext, &mut hash)?;
    Ok(hash.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};
    use proptest::prelude::*;

    fn ctx(record: u64) -> RecordContext {
        RecordContext {
            chain_id: 412346,
            registry: Address::repeat_byte(1),
            patient: Address::repeat_byte(2),
            record_id: U256::from(record),
        }
    }

    fn seal(key: &RecordKey, data: &[u8]) -> (Vec<u8>, Sealed) {
        let mut out = Vec::new();
        let sealed = encrypt(key, &ctx(1), &mut &data[..], &mut out).unwrap();
        (out, sealed)
    }

    fn open(key: &RecordKey, c: &RecordContext, data: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        decrypt(key, c, &mut &data[..], &mut out).map(|_| out)
    }

    #[test]
    fn chunk_boundaries_round_trip() {
        let key = RecordKey::generate();
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let (sealed, info) = seal(&key, &data);
            assert_eq!(sealed.len() as u64, info.ciphertext_len);
            assert_eq!(info.sha256, ciphertext_sha256(&mut &sealed[..]).unwrap());
            assert_eq!(open(&key, &ctx(1), &sealed).unwrap(), data, "length {len}");
        }
    }

    #[test]
    fn wrong_key_wrong_context_and_truncation_are_refused() {
        let key = RecordKey::generate();
        let data = vec![7u8; 2 * CHUNK + 100];
        let (sealed, _) = seal(&key, &data);
        assert!(matches!(
            open(&RecordKey::generate(), &ctx(1), &sealed),
            Err(Error::Decryption)
        ));
        assert!(matches!(
            open(&key, &ctx(2), &sealed),
            Err(Error::Decryption)
        ));
        let mut other_chain = ctx(1);
        other_chain.chain_id = 1;
        assert!(matches!(
            open(&key, &other_chain, &sealed),
            Err(Error::Decryption)
        ));
        // Dropping the last chunk leaves a stream whose new last chunk is not flagged last.
        let cut = HEADER + 2 * (CHUNK + TAG);
        assert!(matches!(
            open(&key, &ctx(1), &sealed[..cut]),
            Err(Error::Decryption)
        ));
        assert!(matches!(
            open(&key, &ctx(1), &sealed[..cut - 1]),
            Err(Error::Decryption)
        ));
        assert!(matches!(
            open(&key, &ctx(1), b"not a ciphertext"),
            Err(Error::BadHeader)
        ));
        assert!(matches!(open(&key, &ctx(1), &[]), Err(Error::BadHeader)));
    }

    #[test]
    fn a_thousand_bit_flips_are_all_detected() {
        let key = RecordKey::generate();
        let data: Vec<u8> = (0..CHUNK + 5000).map(|i| i as u8).collect();
        let (sealed, _) = seal(&key, &data);
        let mut rng = proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        );
        for _ in 0..1000 {
            let mut bad = sealed.clone();
            let bit = (rng.next_u64() % (bad.len() as u64 * 8)) as usize;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                open(&key, &ctx(1), &bad).is_err(),
                "flip of bit {bit} went unnoticed"
            );
        }
    }

    /// Fails after `left` bytes.
    struct Failing {
        left: usize,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = buf.len().min(self.left);
            buf[..n].fill(1);
            self.left -= n;
            Ok(n)
        }
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Read::read(self, &mut vec![0; buf.len()])
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_reader_or_writer_stops_both_threads_with_its_error() {
        let key = RecordKey::generate();
        for left in [0, 10, CHUNK, 20 * CHUNK + 3] {
            let got = encrypt(&key, &ctx(1), &mut Failing { left }, &mut Vec::new());
            assert!(matches!(got, Err(Error::Io(e)) if e.to_string() == "disk gone"));
            let data = vec![0u8; 20 * CHUNK];
            let got = encrypt(
                &key,
                &ctx(1),
                &mut &data[..],
                &mut Failing { left: left + 27 },
            );
            assert!(matches!(got, Err(Error::Io(e)) if e.to_string() == "disk gone"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn any_size_round_trips(len in prop_oneof![0usize..2048, (CHUNK - 64)..(CHUNK + 64), 0usize..(3 * 1024 * 1024)], seed: u8) {
            let key = RecordKey::generate();
            let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed | 1)).collect();
            let (sealed, _) = seal(&key, &data);
            prop_assert_eq!(sealed.len(), HEADER + data.len() + TAG * data.len().div_ceil(CHUNK).max(1));
            prop_assert_eq!(open(&key, &ctx(1), &sealed).unwrap(), data);
        }
    }
}
