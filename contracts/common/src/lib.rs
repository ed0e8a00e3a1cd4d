//! What the three CareLedger contracts share: the interfaces they call each other
//! through, the scope kinds of a grant and the fixed policy constants.
//!
//! Every cross-contract call in CareLedger is a view, so the contracts never
//! re-enter each other and need no reentrancy feature.
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `missing_docs` is allowed at the crate root for `sol_interface!` alone, which
// gives each interface a `pub address` field and a `pub fn new` that no doc
// comment can reach. The interfaces stay at the root: in a module of their own
// their paths, and so their symbol names, would change, which reorders the
// functions of the contracts' WASM. Everything written by hand is in a module
// that warns again (`#[warn(missing_docs)]`): put new items in one of them.
#![allow(missing_docs)]
extern crate alloc;

use alloc::vec;

use stylus_sdk::prelude::sol_interface;

#[warn(missing_docs)]
pub mod scope;
#[warn(missing_docs)]
pub mod short_bytes;

pub use policy::*;
pub use scope::{ScopeKind, UnknownScopeKind};

sol_interface! {
    /// The views of PatientRegistry that the other contracts rely on.
    interface IPatientRegistry {
        /// Whether `account` is a registered patient.
        function isPatient(address account) external view returns (bool);
        /// Whether `account` is a doctor that is verified now.
        function isVerifiedDoctor(address account) external view returns (bool);
        /// The registry's owner, who also administers AccessToken.
        function owner() external view returns (address);
        /// Whether the registry is paused: no registrations, new grants or emergency windows.
        function paused() external view returns (bool);
        /// The emergency custodians `patient` named.
        function emergencyCustodians(address patient) external view returns (address[] memory);
        /// Whether `account` is one of `patient`'s emergency custodians.
        function isEmergencyCustodian(address patient, address account) external view returns (bool);
    }

    /// The views of AccessToken that RecordRegistry asks: before every read, and
    /// before a custodian releases keys to an emergency opener.
    interface IAccessToken {
        /// Whether `doctor` may read `patient`'s record `record_id` now, its `category` taken on the caller's word.
        function checkAccess(address patient, address doctor, uint256 record_id, bytes32 category) external view returns (bool);
        /// Whether `doctor` holds an open emergency window on `patient` and is verified now.
        function hasEmergencyAccess(address patient, address doctor) external view returns (bool);
    }

    /// The views of RecordRegistry that `AccessToken.hasAccess` asks: whose record
    /// it is, and its category when a category scope must be resolved.
    interface IRecordRegistry {
        /// The patient record `record_id` belongs to, zero if none.
        function recordOwner(uint256 record_id) external view returns (address);
        /// The opaque category code of record `record_id`.
        function recordCategory(uint256 record_id) external view returns (bytes32);
    }
}

/// The fixed policy constants, re-exported at the crate root.
#[warn(missing_docs)]
mod policy {
    /// How long break-glass emergency access stays open: 4 hours, fixed by design so
    /// that no caller can ask for a longer window.
    pub const EMERGENCY_WINDOW_SECS: u64 = 4 * 60 * 60;

    /// How long a patient's close bars that doctor from re-opening emergency access
    /// on that patient: 30 days, unless the patient lifts the bar earlier.
    pub const EMERGENCY_BAR_SECS: u64 = 30 * 24 * 60 * 60;

    /// The rolling period over which a doctor's emergency openings are counted.
    pub const EMERGENCY_LIMIT_PERIOD_SECS: u64 = 24 * 60 * 60;

    /// How many emergency windows a doctor may open across all patients per rolling
    /// day until the owner sets another limit.
    pub const DEFAULT_EMERGENCY_DAILY_LIMIT: u8 = 3;

    /// Upper bound on the daily limit the owner may set, which bounds the openings
    /// kept per doctor (and so the gas of every opening).
    pub const MAX_EMERGENCY_DAILY_LIMIT: u8 = 16;

    /// Why a doctor breaks the glass. The code is emitted with `EmergencyAccess`, so
    /// the patient and its custodians see the stated reason; it is a claim the doctor
    /// answers for, not something the chain can check.
    pub mod emergency_reason {
        /// The patient is unconscious or otherwise unable to consent.
        pub const UNCONSCIOUS: u8 = 1;
        /// A life-threatening condition needs the history now.
        pub const LIFE_THREATENING: u8 = 2;
        /// The patient cannot communicate (language, cognition, sedation).
        pub const CANNOT_COMMUNICATE: u8 = 3;
        /// Another urgent treatment that cannot wait for the patient's consent.
        pub const OTHER_URGENT: u8 = 4;
        /// The highest valid code; 0 and anything above are refused.
        pub const MAX: u8 = OTHER_URGENT;
    }

    /// Upper bound on live grants per (patient, doctor) pair, which bounds the gas
    /// of every access check.
    pub const MAX_GRANTS_PER_PAIR: usize = 8;

    /// Upper bound on record ids listed in one grant.
    pub const MAX_SCOPE_RECORDS: usize = 64;

    /// Upper bound on the length of a record's CID bytes (a CIDv1 with sha2-256 is 36).
    pub const MAX_CID_LEN: usize = crate::short_bytes::SHORT_BYTES_MAX;

    /// Upper bound on the length of one wrapped record key (an HPKE X25519 +
    /// ChaCha20-Poly1305 envelope of a 32-byte key is 32 + 48 = 80 bytes).
    pub const MAX_WRAPPED_KEY_LEN: usize = crate::short_bytes::SHORT_BYTES_MAX;
}
