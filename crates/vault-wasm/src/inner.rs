//! What the browser API does, in plain Rust: bytes and strings in, vault types
//! inside, `careledger_vault::Error` out. Tested on the host; `lib.rs` only maps
//! these to JavaScript. Record keys are created, used and dropped in here.

use alloy_primitives::{Address, U256};
use careledger_vault::ipfs::codec::{DAG_PB, RAW};
use careledger_vault::ipfs::{self, BlockStore, Cid, NullBlockStore};
use careledger_vault::record::{self, StoredRecord};
use careledger_vault::{keyfile, stream, wrap, Error, ReaderKeypair, RecordContext, RecordKey};
use std::collections::HashMap;
use zeroize::Zeroizing;

/// A record sealed in memory: what goes to IPFS, what goes on chain, and the
/// record key wrapped for each reader (the key itself is gone).
#[derive(Debug)]
pub struct Sealed {
    /// Root CID, ciphertext hash and length: what goes on chain.
    pub record: StoredRecord,
    /// Every block of the DAG, each once, children before their parents.
    pub blocks: Vec<(Cid, Vec<u8>)>,
    /// One wrapped key per reader, in the order the public keys came.
    pub wrapped_keys: Vec<Vec<u8>>,
}

/// Blocks in memory in the order they were put (the DAG builder puts children
/// first). Unlike the vault's own stores it does not hash each block again: its
/// only writer is the DAG builder, which derived each CID from that very block a
/// moment before, and the IPFS node recomputes every CID on upload, where the
/// page compares it. Sealing hashes every byte twice instead of three times.
#[derive(Default)]
struct OrderedStore {
    blocks: Vec<(Cid, Vec<u8>)>,
    index: HashMap<Cid, usize>,
}

impl BlockStore for OrderedStore {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error> {
        if !self.index.contains_key(cid) {
            self.index.insert(*cid, self.blocks.len());
            self.blocks.push((*cid, block.to_vec()));
        }
        Ok(())
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error> {
        self.index
            .get(cid)
            .map(|&i| self.blocks[i].1.clone())
            .ok_or_else(|| Error::MissingBlock(cid.to_string()))
    }
}

fn invalid(what: impl Into<String>) -> Error {
    Error::InvalidInput(what.into())
}

fn exact<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], Error> {
    bytes
        .try_into()
        .map_err(|_| invalid(format!("{what} must be {N} bytes, got {}", bytes.len())))
}

/// The record a ciphertext belongs to, from the arguments JavaScript passes:
/// exactly the CLI's `RecordContext`, so either side opens the other's records.
pub fn context(
    chain_id: u64,
    registry: &[u8],
    patient: &[u8],
    record_id: &str,
) -> Result<RecordContext, Error> {
    let registry = Address::from(exact::<20>(registry, "the registry address")?);
    let patient = Address::from(exact::<20>(patient, "the patient address")?);
    // Decimal only: "0x10" or "1e3" would otherwise be read some other way.
    if record_id.is_empty()
        || record_id.len() > 78
        || !record_id.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid(
            "the record id must be a decimal number (a uint256)",
        ));
    }
    let record_id = U256::from_str_radix(record_id, 10)
        .map_err(|_| invalid("the record id does not fit in a uint256"))?;
    Ok(RecordContext {
        chain_id,
        registry,
        patient,
        record_id,
    })
}

fn keypair(secret: &[u8]) -> Result<ReaderKeypair, Error> {
    let secret = Zeroizing::new(exact::<32>(secret, "a secret key")?);
    ReaderKeypair::from_secret(&secret)
}

/// A fresh X25519 secret (32 bytes).
pub fn generate_secret() -> Zeroizing<[u8; 32]> {
    Zeroizing::new(ReaderKeypair::generate().secret_bytes())
}

/// The public key (as registered on chain) of a secret.
pub fn public_key(secret: &[u8]) -> Result<[u8; 32], Error> {
    Ok(keypair(secret)?.public_key())
}

/// The patient's own code of category `name` (see `careledger_vault::category`),
/// exactly as the CLI computes it from the same secret.
pub fn category_code(secret: &[u8], name: &str) -> Result<[u8; 32], Error> {
    Ok(careledger_vault::category_code(&keypair(secret)?, name))
}

/// The secret locked with `passphrase` (see `careledger_vault::keyfile`).
pub fn lock_secret(secret: &[u8], passphrase: &str) -> Result<String, Error> {
    let secret = Zeroizing::new(exact::<32>(secret, "a secret key")?);
    keyfile::lock(&secret, passphrase)
}

/// The secret back from `lock_secret`'s text; [`Error::WrongPassphrase`] if the
/// passphrase does not open it.
pub fn unlock_secret(locked: &str, passphrase: &str) -> Result<Zeroizing<[u8; 32]>, Error> {
    keyfile::unlock(locked, passphrase)
}

/// Encrypts `plaintext` under a fresh record key into a UnixFS DAG in memory,
/// the CLI's `record::seal`, and wraps the key for each 32-byte public key in
/// `reader_keys` (concatenated).
pub fn seal_record(
    plaintext: &[u8],
    ctx: &RecordContext,
    reader_keys: &[u8],
) -> Result<Sealed, Error> {
    if reader_keys.is_empty() || !reader_keys.len().is_multiple_of(32) {
        return Err(invalid(format!(
            "reader public keys must be one or more 32-byte keys, got {} bytes",
            reader_keys.len()
        )));
    }
    let key = RecordKey::generate();
    // Wrap first: a bad reader key fails before any encryption.
    let wrapped_keys = reader_keys
        .chunks_exact(32)
        .map(|k| wrap::wrap(&key, &exact::<32>(k, "a reader public key")?, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = OrderedStore::default();
    let record = record::seal(&key, ctx, &mut &plaintext[..], &mut store)?;
    Ok(Sealed {
        record,
        blocks: store.blocks,
        wrapped_keys,
    })
}

/// Checks `ciphertext` against the hash on chain, unwraps the record key with
/// `secret`, and decrypts: the same checks, in the same order, as `record::open`.
pub fn open_record(
    ciphertext: &[u8],
    wrapped_key: &[u8],
    secret: &[u8],
    ctx: &RecordContext,
    expected_sha256: &[u8],
) -> Result<Vec<u8>, Error> {
    let expected = exact::<32>(expected_sha256, "the expected sha-256")?;
    if stream::ciphertext_sha256(&mut &ciphertext[..])? != expected {
        return Err(Error::HashMismatch("the ciphertext".into()));
    }
    let key = unwrap_key(wrapped_key, secret, ctx)?;
    let mut plaintext = Vec::with_capacity(ciphertext.len());
    stream::decrypt(&key, ctx, &mut &ciphertext[..], &mut plaintext)?;
    Ok(plaintext)
}

fn unwrap_key(wrapped: &[u8], secret: &[u8], ctx: &RecordContext) -> Result<RecordKey, Error> {
    if wrapped.len() != wrap::WRAPPED_LEN {
        return Err(invalid(format!(
            "a wrapped key must be {} bytes, got {}",
            wrap::WRAPPED_LEN,
            wrapped.len()
        )));
    }
    wrap::unwrap(wrapped, &keypair(secret)?, ctx)
}

/// The record key wrapped for me, wrapped again for `reader_public` (sharing a
/// record with a newly granted reader); the key never leaves this function.
pub fn rewrap_key(
    wrapped_for_me: &[u8],
    my_secret: &[u8],
    reader_public: &[u8],
    ctx: &RecordContext,
) -> Result<Vec<u8>, Error> {
    let reader = exact::<32>(reader_public, "a reader public key")?;
    let key = unwrap_key(wrapped_for_me, my_secret, ctx)?;
    wrap::wrap(&key, &reader, ctx)
}

/// A binary CID (as on chain) in its text form; trailing bytes are an error, not ignored.
pub fn cid_to_string(bytes: &[u8]) -> Result<String, Error> {
    let cid = Cid::try_from(bytes).map_err(|e| invalid(format!("not a binary CID: {e}")))?;
    if cid.encoded_len() != bytes.len() {
        return Err(invalid("not a binary CID: trailing bytes"));
    }
    Ok(cid.to_string())
}

/// A CID's text form (or an /ipfs/ path), surrounding whitespace ignored, in binary
/// as on chain.
pub fn cid_from_string(text: &str) -> Result<Vec<u8>, Error> {
    let cid: Cid = text
        .trim()
        .parse()
        .map_err(|e| invalid(format!("not a CID: {e}")))?;
    Ok(cid.to_bytes())
}

/// The CID kubo gives `bytes` (`ipfs add --cid-version=1`), as the vault computes it.
pub fn ciphertext_cid(bytes: &[u8]) -> Result<String, Error> {
    Ok(ipfs::add(&mut &bytes[..], &mut NullBlockStore)?.to_string())
}

/// "raw" or "dag-pb", the codecs a UnixFS DAG is made of.
pub fn codec_name(cid: &Cid) -> &'static str {
    match cid.codec() {
        RAW => "raw",
        DAG_PB => "dag-pb",
        _ => "unknown",
    }
}

/// What the page shows for an error: the four a user can meet opening or
/// unlocking in plain words, the rest as the vault words them.
pub fn message(e: &Error) -> String {
    match e {
        Error::WrongPassphrase => "wrong passphrase".into(),
        Error::HashMismatch(_) => "the content does not match the hash on chain".into(),
        Error::Unwrap => "this key was not wrapped for you".into(),
        Error::Decryption | Error::BadHeader => {
            "decryption failed: the ciphertext was altered".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_codes_match_the_vaults_fixed_vector() {
        let code = category_code(&[7u8; 32], " Lab ").unwrap();
        assert_eq!(
            alloy_primitives::hex::encode(code),
            "b10b7936397cfc97c4dc2c2dbbb0abc5694d72dc5b4b97d3d6afe1db3c64e982"
        );
        assert_eq!(category_code(&[7u8; 32], "").unwrap(), [0u8; 32]);
        assert!(category_code(&[7u8; 31], "lab").is_err());
    }
    use careledger_vault::ipfs::MemBlockStore;
    use sha2::{Digest, Sha256};

    const REGISTRY: [u8; 20] = [0x11; 20];
    const PATIENT: [u8; 20] = [0x22; 20];

    fn ctx(id: &str) -> RecordContext {
        context(412346, &REGISTRY, &PATIENT, id).unwrap()
    }

    fn ciphertext_of(sealed: &Sealed) -> Vec<u8> {
        let mut store = MemBlockStore::default();
        for (cid, block) in &sealed.blocks {
            store.put(cid, block).unwrap();
        }
        let mut out = Vec::new();
        ipfs::cat(&sealed.record.cid, &store, &mut out).unwrap();
        out
    }

    #[test]
    fn a_record_sealed_for_two_readers_opens_for_each() {
        let (patient, doctor) = (generate_secret(), generate_secret());
        let keys = [
            public_key(&*patient).unwrap(),
            public_key(&*doctor).unwrap(),
        ]
        .concat();
        let plain: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();
        let sealed = seal_record(&plain, &ctx("7"), &keys).unwrap();
        assert_eq!(sealed.wrapped_keys.len(), 2);
        assert!(sealed.wrapped_keys.iter().all(|w| w.len() == 80));
        // 600 kB of ciphertext: three raw leaves, then the dag-pb root, last.
        assert_eq!(sealed.blocks.len(), 4);
        assert_eq!(sealed.blocks.last().unwrap().0, sealed.record.cid);
        let codecs: Vec<_> = sealed.blocks.iter().map(|(c, _)| codec_name(c)).collect();
        assert_eq!(codecs, ["raw", "raw", "raw", "dag-pb"]);

        let ciphertext = ciphertext_of(&sealed);
        assert_eq!(ciphertext.len() as u64, sealed.record.ciphertext_len);
        for (secret, wrapped) in [
            (&patient, &sealed.wrapped_keys[0]),
            (&doctor, &sealed.wrapped_keys[1]),
        ] {
            let opened = open_record(
                &ciphertext,
                wrapped,
                &**secret,
                &ctx("7"),
                &sealed.record.sha256,
            )
            .unwrap();
            assert!(opened == plain);
        }

        // Each check in its place, each with its message.
        let sha = sealed.record.sha256;
        let w = &sealed.wrapped_keys[0];
        let mut altered = ciphertext.clone();
        altered[1000] ^= 1;
        let err = open_record(&altered, w, &*patient, &ctx("7"), &sha).unwrap_err();
        assert_eq!(
            message(&err),
            "the content does not match the hash on chain"
        );
        let altered_sha: [u8; 32] = Sha256::digest(&altered).into();
        let err = open_record(&altered, w, &*patient, &ctx("7"), &altered_sha).unwrap_err();
        assert_eq!(
            message(&err),
            "decryption failed: the ciphertext was altered"
        );
        let stranger = generate_secret();
        let err = open_record(&ciphertext, w, &*stranger, &ctx("7"), &sha).unwrap_err();
        assert_eq!(message(&err), "this key was not wrapped for you");
        // Another record: the wrapped key is bound to the context too.
        let err = open_record(&ciphertext, w, &*patient, &ctx("8"), &sha).unwrap_err();
        assert_eq!(message(&err), "this key was not wrapped for you");
    }

    /// A record sealed in the browser is one the CLI opens: same CID as the
    /// vault's `ipfs::add` of the ciphertext, and `record::open` decrypts it.
    #[test]
    fn a_browser_record_opens_in_the_cli_and_back() {
        let doctor = ReaderKeypair::generate();
        let plain = b"{\"resourceType\":\"Bundle\"}".repeat(20_000);
        let sealed = seal_record(&plain, &ctx("42"), &doctor.public_key()).unwrap();
        let ciphertext = ciphertext_of(&sealed);

        let mut cli_store = MemBlockStore::default();
        let cid = ipfs::add(&mut &ciphertext[..], &mut cli_store).unwrap();
        assert_eq!(cid, sealed.record.cid);
        assert_eq!(ciphertext_cid(&ciphertext).unwrap(), cid.to_string());
        assert_eq!(
            cid_from_string(&cid.to_string()).unwrap(),
            sealed.record.cid.to_bytes()
        );
        let cli_ctx = RecordContext {
            chain_id: 412346,
            registry: Address::repeat_byte(0x11),
            patient: Address::repeat_byte(0x22),
            record_id: U256::from(42),
        };
        assert_eq!(cli_ctx, ctx("42"));
        let key = wrap::unwrap(&sealed.wrapped_keys[0], &doctor, &cli_ctx).unwrap();
        let mut out = Vec::new();
        record::open(
            &key,
            &cli_ctx,
            &cid,
            &sealed.record.sha256,
            &cli_store,
            &mut out,
        )
        .unwrap();
        assert!(out == plain);

        // The other way: the CLI seals into its store, the browser opens the bytes.
        let key = RecordKey::generate();
        let mut store = MemBlockStore::default();
        let stored = record::seal(&key, &cli_ctx, &mut &plain[..], &mut store).unwrap();
        let wrapped = wrap::wrap(&key, &doctor.public_key(), &cli_ctx).unwrap();
        let mut bytes = Vec::new();
        ipfs::cat(&stored.cid, &store, &mut bytes).unwrap();
        let opened = open_record(
            &bytes,
            &wrapped,
            &doctor.secret_bytes(),
            &ctx("42"),
            &stored.sha256,
        )
        .unwrap();
        assert!(opened == plain);
    }

    #[test]
    fn an_empty_record_is_one_raw_block() {
        let me = generate_secret();
        let sealed = seal_record(b"", &ctx("1"), &public_key(&*me).unwrap()).unwrap();
        assert_eq!(sealed.blocks.len(), 1);
        assert_eq!(codec_name(&sealed.record.cid), "raw");
        let ct = ciphertext_of(&sealed);
        let opened = open_record(
            &ct,
            &sealed.wrapped_keys[0],
            &*me,
            &ctx("1"),
            &sealed.record.sha256,
        );
        assert_eq!(opened.unwrap(), b"");
    }

    #[test]
    fn rewrapping_shares_a_record_and_needs_the_right_secret() {
        let (patient, doctor) = (generate_secret(), generate_secret());
        let sealed = seal_record(b"x-ray", &ctx("3"), &public_key(&*patient).unwrap()).unwrap();
        let ct = ciphertext_of(&sealed);
        let doctor_pub = public_key(&*doctor).unwrap();
        let for_doctor =
            rewrap_key(&sealed.wrapped_keys[0], &*patient, &doctor_pub, &ctx("3")).unwrap();
        assert_eq!(for_doctor.len(), 80);
        let opened = open_record(&ct, &for_doctor, &*doctor, &ctx("3"), &sealed.record.sha256);
        assert_eq!(opened.unwrap(), b"x-ray");

        let err =
            rewrap_key(&sealed.wrapped_keys[0], &*doctor, &doctor_pub, &ctx("3")).unwrap_err();
        assert!(matches!(err, Error::Unwrap));
        assert_eq!(message(&err), "this key was not wrapped for you");
        let err =
            rewrap_key(&sealed.wrapped_keys[0], &*patient, &doctor_pub, &ctx("4")).unwrap_err();
        assert!(matches!(err, Error::Unwrap));
    }

    #[test]
    fn secrets_lock_and_unlock() {
        let secret = generate_secret();
        assert_ne!(*secret, *generate_secret());
        let locked = lock_secret(&*secret, "hunter2 but longer").unwrap();
        assert_eq!(
            *unlock_secret(&locked, "hunter2 but longer").unwrap(),
            *secret
        );
        let err = unlock_secret(&locked, "hunter3 but longer").unwrap_err();
        assert_eq!(message(&err), "wrong passphrase");
        let err = unlock_secret("{\"version\":1}", "x").unwrap_err();
        assert!(message(&err).starts_with("malformed key file"), "{err}");
        assert!(lock_secret(&[1; 31], "x").is_err());
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        let me = generate_secret();
        let me_pub = public_key(&*me).unwrap();
        let bad = |r: Result<RecordContext, Error>| matches!(r, Err(Error::InvalidInput(_)));
        assert!(bad(context(1, &[0; 19], &PATIENT, "1")));
        assert!(bad(context(1, &REGISTRY, &[0; 21], "1")));
        let long = "9".repeat(79);
        for id in ["", "0x10", "-1", "1e3", " 1", "1.0", &long] {
            assert!(bad(context(1, &REGISTRY, &PATIENT, id)), "{id:?}");
        }
        // 2^256: 78 digits, one more than fits.
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert!(bad(context(1, &REGISTRY, &PATIENT, over)));
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(ctx(max).record_id, U256::MAX);
        assert_eq!(ctx("0").record_id, U256::ZERO);

        assert!(public_key(&[1; 31]).is_err());
        assert!(public_key(&[]).is_err());
        for keys in [
            &[][..],
            &[1; 31],
            &me_pub[..31],
            &[me_pub, me_pub].concat()[..63],
        ] {
            assert!(matches!(
                seal_record(b"x", &ctx("1"), keys),
                Err(Error::InvalidInput(_))
            ));
        }
        let sealed = seal_record(b"x", &ctx("1"), &me_pub).unwrap();
        let (w, sha) = (&sealed.wrapped_keys[0], &sealed.record.sha256);
        let ct = ciphertext_of(&sealed);
        assert!(open_record(&ct, &w[..79], &*me, &ctx("1"), sha).is_err());
        assert!(open_record(&ct, w, &me[..31], &ctx("1"), sha).is_err());
        assert!(open_record(&ct, w, &*me, &ctx("1"), &sha[..31]).is_err());
        assert!(open_record(b"", w, &*me, &ctx("1"), sha).is_err());
        assert!(rewrap_key(w, &*me, &me_pub[..31], &ctx("1")).is_err());
        assert!(rewrap_key(&w[..1], &*me, &me_pub, &ctx("1")).is_err());

        assert!(cid_from_string("").is_err());
        assert!(cid_from_string("not a cid").is_err());
        assert!(
            cid_from_string("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5").is_err()
        );
        assert!(cid_to_string(&[]).is_err());
        assert!(cid_to_string(&[1, 0x55, 0x12, 32, 0]).is_err());
        let hello =
            cid_from_string("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e").unwrap();
        assert!(cid_to_string(&[&hello[..], &[0]].concat()).is_err());
        assert_eq!(
            cid_to_string(&hello).unwrap(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        );
        // The CID kubo prints for "hello world" (toolchain.md).
        assert_eq!(
            ciphertext_cid(b"hello world").unwrap(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        );
    }
}
