// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Solidity twin of contracts/common for scripts/bench's gas table; same surface and semantics.
// What the three twins share: the narrow views they call each other through,
// the scope kinds of a grant and the fixed policy constants.

/// The views of PatientRegistry that the other contracts rely on.
interface IPatientRegistryView {
    function isPatient(address account) external view returns (bool);
    function isVerifiedDoctor(address account) external view returns (bool);
    function owner() external view returns (address);
    function paused() external view returns (bool);
    function emergencyCustodians(address patient) external view returns (address[] memory);
    function isEmergencyCustodian(address patient, address account) external view returns (bool);
}

/// The views of AccessToken that RecordRegistry asks: before every read, and
/// before a custodian releases keys to an emergency opener.
interface IAccessTokenView {
    function checkAccess(address patient, address doctor, uint256 recordId, bytes32 category)
        external
        view
        returns (bool);
    function hasEmergencyAccess(address patient, address doctor) external view returns (bool);
}

/// The views of RecordRegistry that AccessToken.hasAccess asks: whose a record is,
/// and its category when a category scope must be resolved.
interface IRecordRegistryView {
    function recordOwner(uint256 recordId) external view returns (address);
    function recordCategory(uint256 recordId) external view returns (bytes32);
}

// Scope kinds of a grant token.
uint8 constant SCOPE_ALL = 0;
uint8 constant SCOPE_RECORDS = 1;
uint8 constant SCOPE_CATEGORY = 2;

// Break-glass window, fixed so that no caller can ask for a longer one.
uint64 constant EMERGENCY_WINDOW_SECS = 4 hours;
// How long a patient's close bars that doctor from re-opening on that patient.
uint64 constant EMERGENCY_BAR_SECS = 30 days;
// The rolling period over which a doctor's emergency openings are counted.
uint64 constant EMERGENCY_LIMIT_PERIOD_SECS = 1 days;
// Emergency windows a doctor may open across all patients per rolling day, until the owner sets another limit.
uint8 constant DEFAULT_EMERGENCY_DAILY_LIMIT = 3;
// Upper bound on the daily limit (bounds the openings kept per doctor).
uint8 constant MAX_EMERGENCY_DAILY_LIMIT = 16;
// Break-glass reason codes (careledger_common::emergency_reason): 1 unconscious,
// 2 life-threatening, 3 cannot communicate, 4 other urgent; 0 and above are refused.
uint8 constant EMERGENCY_REASON_MAX = 4;
// Emergency custodians per patient.
uint256 constant MAX_CUSTODIANS = 4;
// Upper bound on the verification threshold.
uint8 constant MAX_VERIFICATION_THRESHOLD = 8;
// Live grants per (patient, doctor) pair: bounds the gas of every access check.
uint256 constant MAX_GRANTS_PER_PAIR = 8;
// Record ids listed in one grant.
uint256 constant MAX_SCOPE_RECORDS = 64;
// CID bytes of one version (a CIDv1 with sha2-256 is 36).
uint256 constant MAX_CID_LEN = 128;
// One wrapped record key (an HPKE X25519 + ChaCha20-Poly1305 envelope of a 32-byte key is 80).
uint256 constant MAX_WRAPPED_KEY_LEN = 128;

/// Static call that yields the first word of the answer. `ok` is false when the
/// call reverted or answered less than a word (an address without code answers
/// nothing): exactly when the Rust contracts' decode fails. A high-level call or
/// try/catch would revert on such an answer instead of reporting it.
function staticWord(address target, bytes memory data) view returns (bool ok, bytes32 word) {
    (bool success, bytes memory answer) = target.staticcall(data);
    if (!success || answer.length < 32) return (false, bytes32(0));
    return (true, abi.decode(answer, (bytes32)));
}

/// Static call of a view returning `address[]`: `ok` is false when the call
/// reverted or its answer is not a well-formed `address[]` (where the Rust
/// contracts' decode fails); otherwise the array's length.
function staticArrayLength(address target, bytes memory data) view returns (bool ok, uint256 length) {
    (bool success, bytes memory answer) = target.staticcall(data);
    if (!success || answer.length < 64) return (false, 0);
    uint256 offset;
    assembly ("memory-safe") {
        offset := mload(add(answer, 32))
    }
    if (offset > answer.length - 32) return (false, 0);
    assembly ("memory-safe") {
        length := mload(add(add(answer, 32), offset))
    }
    if (length > (answer.length - 32 - offset) / 32) return (false, 0);
    return (true, length);
}
