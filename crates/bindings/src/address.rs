//! Addresses as people type and paste them: 40 hex digits after `0x`, and a
//! mixed-case spelling must carry a correct EIP-55 checksum.

use alloy::primitives::Address;

/// Why a text is not an acceptable address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not `0x` followed by exactly 40 hex digits.
    #[error("not an address (0x followed by 40 hex digits)")]
    Malformed,
    /// Mixed case that is not the address's EIP-55 spelling: most likely a typo.
    #[error(
        "wrong EIP-55 checksum (its mixed case does not match the address): \
         check it against where it came from"
    )]
    WrongChecksum,
}

/// Reads an address, refusing a mixed-case spelling whose EIP-55 checksum is
/// wrong; all-lowercase and all-uppercase spellings carry no checksum and pass.
///
/// # Errors
/// [`AddressError::Malformed`] or [`AddressError::WrongChecksum`]. The error
/// never holds the expected spelling: copying it would accept the typo.
pub fn parse_checked(text: &str) -> Result<Address, AddressError> {
    let hex = text.strip_prefix("0x").ok_or(AddressError::Malformed)?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::Malformed);
    }
    let address: Address = hex.parse().map_err(|_| AddressError::Malformed)?;
    let lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    if lower && upper && address.to_checksum(None)[2..] != *hex {
        return Err(AddressError::WrongChecksum);
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RIGHT: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    #[test]
    fn a_right_checksum_and_single_case_spellings_pass() {
        let a = parse_checked(RIGHT).unwrap();
        assert_eq!(a.to_checksum(None), RIGHT);
        assert_eq!(parse_checked(&RIGHT.to_lowercase()), Ok(a));
        assert_eq!(
            parse_checked(&format!("0x{}", RIGHT[2..].to_uppercase())),
            Ok(a)
        );
    }

    #[test]
    fn a_wrong_checksum_or_a_malformed_text_is_refused() {
        assert_eq!(
            parse_checked(&RIGHT.replacen("aA", "AA", 1)),
            Err(AddressError::WrongChecksum)
        );
        for bad in [
            "",
            "0x",
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aAeb6",
            "0xzz",
            &format!("{RIGHT}00"),
            "0x+aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
        ] {
            assert_eq!(parse_checked(bad), Err(AddressError::Malformed), "{bad:?}");
        }
    }
}
