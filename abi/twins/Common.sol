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
}

/// The view of AccessToken that RecordRegistry asks before every read.
interface IAccessTokenView {
    function checkAccess(address patient, address doctor, uint256 recordId, bytes32 category)
        external
        view
        returns (bool);
}

/// The view of RecordRegistry that AccessToken asks to resolve a category scope.
interface IRecordRegistryView {
    function recordCategory(uint256 recordId) external view returns (bytes32);
}

// Scope kinds of a grant token.
uint8 constant SCOPE_ALL = 0;
uint8 constant SCOPE_RECORDS = 1;
uint8 constant SCOPE_CATEGORY = 2;

// Break-glass window, fixed so that no caller can ask for a longer one.
uint64 constant EMERGENCY_WINDOW_SECS = 4 hours;
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
