//! The vault for the browser: `careledger-vault` compiled to WebAssembly, so the
//! page encrypts, wraps keys and computes CIDs with the CLI's own code.
//!
//! Built by `scripts/build-web-wasm` into `web/src/vault/pkg/`. Each export is a
//! thin wrapper over [`inner`], which holds the logic in plain Rust (tested on the
//! host); errors become `Error`s in JavaScript with readable messages. Record
//! keys never leave the module: JavaScript sees ciphertexts, wrapped keys and
//! the user's own X25519 secret.
//!
//! A record's context is `(chainId: bigint, registry: 20 bytes, patient: 20
//! bytes, recordId: decimal string)`, exactly the CLI's `RecordContext`.

use careledger_vault::ipfs::Cid;
use careledger_vault::Error;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

pub mod inner;

fn js(e: Error) -> JsError {
    JsError::new(&inner::message(&e))
}

fn ctx(
    chain_id: u64,
    registry: &[u8],
    patient: &[u8],
    record_id: &str,
) -> Result<careledger_vault::RecordContext, JsError> {
    inner::context(chain_id, registry, patient, record_id).map_err(js)
}

/// The crate's version.
#[wasm_bindgen(js_name = vaultVersion)]
pub fn vault_version() -> String {
    env!("CARGO_PKG_VERSION").into()
}

/// A fresh X25519 secret key (32 bytes).
#[wasm_bindgen(js_name = generateSecret)]
pub fn generate_secret() -> Vec<u8> {
    inner::generate_secret().to_vec()
}

/// The 32-byte public key (what PatientRegistry stores) of a secret key.
#[wasm_bindgen(js_name = publicKey)]
pub fn public_key(secret: Vec<u8>) -> Result<Vec<u8>, JsError> {
    let secret = Zeroizing::new(secret);
    Ok(inner::public_key(&secret).map_err(js)?.to_vec())
}

/// The patient's own 32-byte code of a category name (HMAC-SHA256 under a key
/// derived from the patient's X25519 secret; see `careledger_vault::category`):
/// what goes on chain instead of a guessable hash. Empty name: 32 zero bytes.
#[wasm_bindgen(js_name = categoryCode)]
pub fn category_code(secret: Vec<u8>, name: &str) -> Result<Vec<u8>, JsError> {
    let secret = Zeroizing::new(secret);
    Ok(inner::category_code(&secret, name).map_err(js)?.to_vec())
}

/// The secret key locked with a passphrase: JSON text for localStorage.
#[wasm_bindgen(js_name = lockSecret)]
pub fn lock_secret(secret: Vec<u8>, passphrase: &str) -> Result<String, JsError> {
    let secret = Zeroizing::new(secret);
    inner::lock_secret(&secret, passphrase).map_err(js)
}

/// The secret key back from `lockSecret`'s text; throws "wrong passphrase".
#[wasm_bindgen(js_name = unlockSecret)]
pub fn unlock_secret(locked: &str, passphrase: &str) -> Result<Vec<u8>, JsError> {
    Ok(inner::unlock_secret(locked, passphrase)
        .map_err(js)?
        .to_vec())
}

/// A record sealed in memory: its DAG's blocks for IPFS, what goes on chain,
/// and one wrapped key per reader.
#[wasm_bindgen]
pub struct SealedRecord {
    inner: inner::Sealed,
}

fn out_of_range(i: usize, n: usize, what: &str) -> JsError {
    JsError::new(&format!("{what} index {i} out of range (there are {n})"))
}

#[wasm_bindgen]
impl SealedRecord {
    /// The root CID (CIDv1, base32), as kubo would give the ciphertext.
    #[wasm_bindgen(getter)]
    pub fn cid(&self) -> String {
        self.inner.record.cid.to_string()
    }

    /// The root CID in binary, as the registry stores it.
    #[wasm_bindgen(getter, js_name = cidBytes)]
    pub fn cid_bytes(&self) -> Vec<u8> {
        self.inner.record.cid.to_bytes()
    }

    /// sha-256 of the ciphertext: the content hash on chain.
    #[wasm_bindgen(getter)]
    pub fn sha256(&self) -> Vec<u8> {
        self.inner.record.sha256.to_vec()
    }

    /// Bytes of ciphertext, header and tags included, as a JavaScript number (exact up
    /// to 2^53).
    #[wasm_bindgen(getter, js_name = ciphertextLen)]
    pub fn ciphertext_len(&self) -> f64 {
        self.inner.record.ciphertext_len as f64
    }

    /// How many blocks `blockCid` and `blockData` index.
    #[wasm_bindgen(getter, js_name = blockCount)]
    pub fn block_count(&self) -> usize {
        self.inner.blocks.len()
    }

    /// Blocks come children first, the root last.
    #[wasm_bindgen(js_name = blockCid)]
    pub fn block_cid(&self, i: usize) -> Result<String, JsError> {
        Ok(self.block(i)?.0.to_string())
    }

    /// "raw" or "dag-pb".
    #[wasm_bindgen(js_name = blockCodec)]
    pub fn block_codec(&self, i: usize) -> Result<String, JsError> {
        Ok(inner::codec_name(&self.block(i)?.0).into())
    }

    /// The bytes of block `i`, to upload under `blockCid(i)`.
    #[wasm_bindgen(js_name = blockData)]
    pub fn block_data(&self, i: usize) -> Result<Vec<u8>, JsError> {
        Ok(self.block(i)?.1.clone())
    }

    /// The record key wrapped for reader `i` (80 bytes), in the order given.
    #[wasm_bindgen(js_name = wrappedKey)]
    pub fn wrapped_key(&self, i: usize) -> Result<Vec<u8>, JsError> {
        let keys = &self.inner.wrapped_keys;
        keys.get(i)
            .cloned()
            .ok_or_else(|| out_of_range(i, keys.len(), "reader"))
    }
}

impl SealedRecord {
    fn block(&self, i: usize) -> Result<&(Cid, Vec<u8>), JsError> {
        let blocks = &self.inner.blocks;
        blocks
            .get(i)
            .ok_or_else(|| out_of_range(i, blocks.len(), "block"))
    }
}

/// Encrypts `plaintext` for one record under a fresh key, as a UnixFS DAG with
/// kubo's CIDs, and wraps the key for each reader (`readerPublicKeys`: n × 32
/// bytes, concatenated).
#[wasm_bindgen(js_name = sealRecord)]
pub fn seal_record(
    plaintext: &[u8],
    #[wasm_bindgen(js_name = chainId)] chain_id: u64,
    registry: &[u8],
    patient: &[u8],
    #[wasm_bindgen(js_name = recordId)] record_id: &str,
    #[wasm_bindgen(js_name = readerPublicKeys)] reader_public_keys: &[u8],
) -> Result<SealedRecord, JsError> {
    let ctx = ctx(chain_id, registry, patient, record_id)?;
    let inner = inner::seal_record(plaintext, &ctx, reader_public_keys).map_err(js)?;
    Ok(SealedRecord { inner })
}

/// Checks the ciphertext against the hash on chain, unwraps the record key with
/// `secret`, decrypts. Throws "the content does not match the hash on chain",
/// "this key was not wrapped for you" or "decryption failed: the ciphertext was altered".
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen(js_name = openRecord)]
pub fn open_record(
    ciphertext: &[u8],
    #[wasm_bindgen(js_name = wrappedKey)] wrapped_key: &[u8],
    secret: Vec<u8>,
    #[wasm_bindgen(js_name = chainId)] chain_id: u64,
    registry: &[u8],
    patient: &[u8],
    #[wasm_bindgen(js_name = recordId)] record_id: &str,
    #[wasm_bindgen(js_name = expectedSha256)] expected_sha256: &[u8],
) -> Result<Vec<u8>, JsError> {
    let secret = Zeroizing::new(secret);
    let ctx = ctx(chain_id, registry, patient, record_id)?;
    inner::open_record(ciphertext, wrapped_key, &secret, &ctx, expected_sha256).map_err(js)
}

/// The record key wrapped for me, wrapped again for `readerPublic` (sharing an
/// existing record with a newly granted reader).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen(js_name = rewrapKey)]
pub fn rewrap_key(
    #[wasm_bindgen(js_name = wrappedForMe)] wrapped_for_me: &[u8],
    #[wasm_bindgen(js_name = mySecret)] my_secret: Vec<u8>,
    #[wasm_bindgen(js_name = readerPublic)] reader_public: &[u8],
    #[wasm_bindgen(js_name = chainId)] chain_id: u64,
    registry: &[u8],
    patient: &[u8],
    #[wasm_bindgen(js_name = recordId)] record_id: &str,
) -> Result<Vec<u8>, JsError> {
    let my_secret = Zeroizing::new(my_secret);
    let ctx = ctx(chain_id, registry, patient, record_id)?;
    inner::rewrap_key(wrapped_for_me, &my_secret, reader_public, &ctx).map_err(js)
}

/// A binary CID (as on chain) in its text form.
#[wasm_bindgen(js_name = cidToString)]
pub fn cid_to_string(bytes: &[u8]) -> Result<String, JsError> {
    inner::cid_to_string(bytes).map_err(js)
}

/// A CID's text form (or an /ipfs/ path) in binary.
#[wasm_bindgen(js_name = cidFromString)]
pub fn cid_from_string(s: &str) -> Result<Vec<u8>, JsError> {
    inner::cid_from_string(s).map_err(js)
}

/// The CID kubo gives these bytes (`ipfs add --cid-version=1`).
#[wasm_bindgen(js_name = ciphertextCid)]
pub fn ciphertext_cid(ciphertext: &[u8]) -> Result<String, JsError> {
    inner::ciphertext_cid(ciphertext).map_err(js)
}
