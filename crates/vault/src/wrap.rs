//! A record key sealed to a reader's X25519 key with HPKE (RFC 9180, base mode,
//! X25519-HKDF-SHA256, HKDF-SHA256, ChaCha20-Poly1305), bound to the record.
//!
//! Wrapped key = encapsulated key (32 bytes) ‖ sealed record key (32 + 16 bytes):
//! 80 bytes, within the contracts' 128-byte limit.

use crate::{Error, ReaderKeypair, RecordContext, RecordKey};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use rand_core::{OsRng, UnwrapErr};

/// Length of a wrapped key.
pub const WRAPPED_LEN: usize = 32 + 32 + 16;
const INFO: &[u8] = b"careledger/record-key/1";

/// Seals `key` for the holder of `reader_public` (a registered 32-byte X25519 key).
pub fn wrap(
    key: &RecordKey,
    reader_public: &[u8; 32],
    ctx: &RecordContext,
) -> Result<Vec<u8>, Error> {
    let public = <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(reader_public)
        .map_err(|_| Error::InvalidKey("public"))?;
    let (encapped, sealed) =
        hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
            &OpModeS::Base,
            &public,
            INFO,
            key.as_bytes(),
            &ctx.aad(),
            &mut UnwrapErr(OsRng),
        )
        .map_err(|_| Error::Wrap)?;
    let mut wrapped = encapped.to_bytes().to_vec();
    wrapped.extend_from_slice(&sealed);
    Ok(wrapped)
}

/// Opens a wrapped key with the reader's keypair.
pub fn unwrap(
    wrapped: &[u8],
    reader: &ReaderKeypair,
    ctx: &RecordContext,
) -> Result<RecordKey, Error> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(Error::Unwrap);
    }
    let encapped = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&wrapped[..32])
        .map_err(|_| Error::Unwrap)?;
    let mut opened = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &reader.secret,
        &encapped,
        INFO,
        &wrapped[32..],
        &ctx.aad(),
    )
    .map_err(|_| Error::Unwrap)?;
    let key: [u8; 32] = opened.as_slice().try_into().map_err(|_| Error::Unwrap)?;
    zeroize::Zeroize::zeroize(&mut opened);
    Ok(RecordKey::from_bytes(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};

    fn ctx(record: u64) -> RecordContext {
        RecordContext {
            chain_id: 412346,
            registry: Address::repeat_byte(1),
            patient: Address::repeat_byte(2),
            record_id: U256::from(record),
        }
    }

    #[test]
    fn only_the_reader_and_the_record_open_a_wrapped_key() {
        let key = RecordKey::generate();
        let doctor = ReaderKeypair::generate();
        let wrapped = wrap(&key, &doctor.public_key(), &ctx(1)).unwrap();
        assert_eq!(wrapped.len(), WRAPPED_LEN);
        assert_eq!(
            unwrap(&wrapped, &doctor, &ctx(1)).unwrap().as_bytes(),
            key.as_bytes()
        );
        assert!(matches!(
            unwrap(&wrapped, &ReaderKeypair::generate(), &ctx(1)),
            Err(Error::Unwrap)
        ));
        assert!(matches!(
            unwrap(&wrapped, &doctor, &ctx(2)),
            Err(Error::Unwrap)
        ));
        let mut bad = wrapped.clone();
        bad[40] ^= 1;
        assert!(matches!(unwrap(&bad, &doctor, &ctx(1)), Err(Error::Unwrap)));
        assert!(matches!(
            unwrap(&wrapped[..79], &doctor, &ctx(1)),
            Err(Error::Unwrap)
        ));
    }

    #[test]
    fn a_keypair_comes_back_from_its_secret() {
        let doctor = ReaderKeypair::generate();
        let again = ReaderKeypair::from_secret(&doctor.secret_bytes()).unwrap();
        assert_eq!(again.public_key(), doctor.public_key());
        let key = RecordKey::generate();
        let wrapped = wrap(&key, &doctor.public_key(), &ctx(3)).unwrap();
        assert_eq!(
            unwrap(&wrapped, &again, &ctx(3)).unwrap().as_bytes(),
            key.as_bytes()
        );
        assert!(
            !format!("{doctor:?} {key:?}").contains(&alloy_primitives::hex::encode(key.as_bytes()))
        );
    }
}
