//! Client-side protection of health records: nothing leaves the client unencrypted.
//!
//! - [`RecordKey`]: a fresh 256-bit key per record.
//! - [`stream`]: XChaCha20-Poly1305 in the STREAM construction, chunk by chunk, so a
//!   1 GiB file never sits in memory; the sha-256 of the ciphertext is what goes on chain.
//! - [`wrap`]: the record key sealed with HPKE (X25519-HKDF-SHA256, ChaCha20-Poly1305)
//!   to each reader's registered X25519 key.
//! - [`ipfs`]: ciphertexts as UnixFS DAGs with kubo's CIDs, in an on-disk block store
//!   or on any node with kubo's RPC API (checked block by block), moved as CARv1, and
//!   kept by pinning services (IPFS Pinning Service API).
//! - [`fhir`]: records as FHIR R4 Bundles (or any file as an attachment), and
//!   grants and on-chain history exported as Consent and AuditEvent.
//! - [`keyfile`]: a 32-byte secret locked with a passphrase (scrypt and
//!   XChaCha20-Poly1305), as the browser keeps the user's X25519 secret.
//! - [`category`]: per-patient, unguessable category codes (HMAC under a key
//!   derived from the patient's X25519 secret) instead of a hash of the name.
//! - [`RecordContext`]: chain id, registry, patient and record id, bound into every
//!   ciphertext as associated data, so a ciphertext or wrapped key moved to another
//!   record does not decrypt.

pub mod category;
mod context;
mod error;
pub mod fhir;
pub mod ipfs;
pub mod keyfile;
mod keys;
pub mod record;
pub mod stream;
pub mod wrap;

pub use category::{category_code, category_code_from_secret, category_name, COMMON_CATEGORIES};
pub use context::RecordContext;
pub use error::Error;
pub use keys::{ReaderKeypair, RecordKey};
