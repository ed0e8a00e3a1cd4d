//! Record keys and readers' X25519 keypairs.

use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, Serializable};
use rand_core::{OsRng, RngCore, UnwrapErr};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// A record's symmetric key: fresh for every record, never stored in the clear.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RecordKey(pub(crate) [u8; 32]);

impl RecordKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        UnwrapErr(OsRng).fill_bytes(&mut key);
        Self(key)
    }

    /// A key from its 32 bytes, as [`crate::wrap::unwrap`] recovers them.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key, borrowed so that no copy outlives the zeroized original.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordKey(..)")
    }
}

/// A reader's X25519 keypair; the public half is what PatientRegistry stores.
pub struct ReaderKeypair {
    pub(crate) secret: <X25519HkdfSha256 as Kem>::PrivateKey,
    pub(crate) public: <X25519HkdfSha256 as Kem>::PublicKey,
}

impl ReaderKeypair {
    /// A new random keypair from the operating system's generator.
    pub fn generate() -> Self {
        let (secret, public) = X25519HkdfSha256::gen_keypair(&mut UnwrapErr(OsRng));
        Self { secret, public }
    }

    /// The keypair derived from `seed` with HPKE's DeriveKeyPair (RFC 9180 §7.1.3):
    /// the CLI derives a user's X25519 key from their Ethereum key, so one
    /// keystore holds both and nothing else needs backing up.
    pub fn derive(seed: &[u8]) -> Self {
        let (secret, public) = X25519HkdfSha256::derive_keypair(seed);
        Self { secret, public }
    }

    /// Rebuilds a keypair from its secret (as kept beside the user's keystore).
    pub fn from_secret(secret: &[u8; 32]) -> Result<Self, Error> {
        let secret = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(secret)
            .map_err(|_| Error::InvalidKey("secret"))?;
        let public = <X25519HkdfSha256 as Kem>::sk_to_pk(&secret);
        Ok(Self { secret, public })
    }

    /// The 32-byte public key registered on chain.
    pub fn public_key(&self) -> [u8; 32] {
        self.public.to_bytes().into()
    }

    /// The 32-byte secret, for the caller to store encrypted; zeroize it after use.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.secret.to_bytes().into()
    }
}

impl std::fmt::Debug for ReaderKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ReaderKeypair(public: 0x{})",
            alloy_primitives::hex::encode(self.public_key())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_keypair_depends_only_on_its_seed() {
        let a = ReaderKeypair::derive(b"seed one, 32 bytes or more......");
        let b = ReaderKeypair::derive(b"seed one, 32 bytes or more......");
        let c = ReaderKeypair::derive(b"seed two, 32 bytes or more......");
        assert_eq!(a.public_key(), b.public_key());
        assert_ne!(a.public_key(), c.public_key());
    }
}
