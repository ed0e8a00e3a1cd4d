//! What the three CareLedger contracts share: the interfaces they call each other
//! through, the scope kinds of a grant and the fixed policy constants.
//!
//! Every cross-contract call in CareLedger is a view, so the contracts never
//! re-enter each other and need no reentrancy feature.
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
extern crate alloc;

use alloc::vec;

pub mod short_bytes;

use stylus_sdk::prelude::sol_interface;

sol_interface! {
    /// The views of PatientRegistry that the other contracts rely on.
    interface IPatientRegistry {
        function isPatient(address account) external view returns (bool);
        function isVerifiedDoctor(address account) external view returns (bool);
        function owner() external view returns (address);
    }

    /// The view of AccessToken that RecordRegistry asks before every read.
    interface IAccessToken {
        function checkAccess(address patient, address doctor, uint256 record_id, bytes32 category) external view returns (bool);
    }

    /// The view of RecordRegistry that AccessToken asks to resolve a category scope.
    interface IRecordRegistry {
        function recordCategory(uint256 record_id) external view returns (bytes32);
    }
}

/// The kinds of scope a grant token carries.
pub mod scope {
    /// Every record of the patient, present and future.
    pub const ALL: u8 = 0;
    /// The record ids listed in the grant.
    pub const RECORDS: u8 = 1;
    /// Every record whose opaque category code equals the grant's.
    pub const CATEGORY: u8 = 2;
}

/// How long break-glass emergency access stays open: 4 hours, fixed by design so
/// that no caller can ask for a longer window.
pub const EMERGENCY_WINDOW_SECS: u64 = 4 * 60 * 60;

/// Upper bound on live grants per (patient, doctor) pair, which bounds the gas
/// of every access check.
pub const MAX_GRANTS_PER_PAIR: usize = 8;

/// Upper bound on record ids listed in one grant.
pub const MAX_SCOPE_RECORDS: usize = 64;

/// Upper bound on the length of a record's CID bytes (a CIDv1 with sha2-256 is 36).
pub const MAX_CID_LEN: usize = short_bytes::SHORT_BYTES_MAX;

/// Upper bound on the length of one wrapped record key (an HPKE X25519 +
/// ChaCha20-Poly1305 envelope of a 32-byte key is 32 + 48 = 80 bytes).
pub const MAX_WRAPPED_KEY_LEN: usize = short_bytes::SHORT_BYTES_MAX;
