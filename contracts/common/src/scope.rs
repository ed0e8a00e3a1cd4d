//! The kinds of scope a grant token carries, and their on-chain codes.
//!
//! On chain (`grant`, `grantInfo`, `AccessGranted`) a kind is a `uint8`: 0 all
//! records, 1 the listed records, 2 one category. [`ScopeKind`] converts to that
//! code with `u8::from` and back with `ScopeKind::try_from`, which refuses every
//! other code with [`UnknownScopeKind`] (AccessToken reverts with
//! `InvalidScope(code)` then).

/// Which of a patient's records a grant opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ScopeKind {
    /// Every record of the patient, present and future (code 0).
    All = 0,
    /// The record ids listed in the grant (code 1).
    Records = 1,
    /// Every record whose opaque category code equals the grant's (code 2).
    Category = 2,
}

/// A scope code that names no [`ScopeKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownScopeKind(pub u8);

impl From<ScopeKind> for u8 {
    fn from(kind: ScopeKind) -> u8 {
        kind as u8
    }
}

impl TryFrom<u8> for ScopeKind {
    type Error = UnknownScopeKind;

    /// The kind whose on-chain code is `code`.
    ///
    /// # Errors
    /// [`UnknownScopeKind`] for any code above 2.
    fn try_from(code: u8) -> Result<Self, UnknownScopeKind> {
        match code {
            0 => Ok(ScopeKind::All),
            1 => Ok(ScopeKind::Records),
            2 => Ok(ScopeKind::Category),
            _ => Err(UnknownScopeKind(code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [ScopeKind; 3] = [ScopeKind::All, ScopeKind::Records, ScopeKind::Category];

    #[test]
    fn the_on_chain_codes_are_zero_one_and_two() {
        let codes: [u8; 3] = KINDS.map(u8::from);
        assert_eq!(codes, [0, 1, 2]);
    }

    #[test]
    fn every_kind_round_trips_through_its_code() {
        for kind in KINDS {
            assert_eq!(ScopeKind::try_from(u8::from(kind)), Ok(kind));
        }
    }

    #[test]
    fn every_code_above_two_is_refused_with_the_code() {
        for code in 3..=u8::MAX {
            assert_eq!(ScopeKind::try_from(code), Err(UnknownScopeKind(code)));
        }
    }
}
