// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Solidity twin of contracts/patient-registry for scripts/bench's gas table; same surface and semantics.

import "../IPatientRegistry.sol";

/// Who is a patient, who is a doctor, and which doctors an accredited verifier
/// has vouched for. The owner appoints verifiers and can pause registrations.
contract PatientRegistry is IPatientRegistry {
    uint8 internal constant STATUS_NONE = 0;
    uint8 internal constant STATUS_PENDING = 1;
    uint8 internal constant STATUS_VERIFIED = 2;
    uint8 internal constant STATUS_SUSPENDED = 3;

    /// The role flags share a slot so that a role check is one storage read.
    struct Account {
        bool isPatient;
        uint8 doctorStatus;
        bytes32 encryptionKey;
        bytes32 licenceHash;
    }

    address internal _owner;
    address internal _pendingOwner;
    bool internal _paused;
    mapping(address => bool) internal _verifiers;
    mapping(address => Account) internal _accounts;

    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert OwnableInvalidOwner(address(0));
        _transferOwnership(initialOwner);
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) revert OwnableUnauthorizedAccount(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (_paused) revert EnforcedPause();
        _;
    }

    // ------------------------------------------------------------ registration

    function registerPatient(bytes32 encryption_key) external whenNotPaused {
        Account storage account = _accounts[msg.sender];
        if (account.isPatient) revert AlreadyRegistered(msg.sender);
        _claimKey(account, encryption_key);
        account.isPatient = true;
        emit PatientRegistered(msg.sender, encryption_key);
    }

    function registerDoctor(bytes32 encryption_key, bytes32 licence_hash) external whenNotPaused {
        Account storage account = _accounts[msg.sender];
        if (account.doctorStatus != STATUS_NONE) revert AlreadyRegistered(msg.sender);
        if (licence_hash == bytes32(0)) revert InvalidLicenceHash();
        _claimKey(account, encryption_key);
        account.doctorStatus = STATUS_PENDING;
        account.licenceHash = licence_hash;
        emit DoctorRegistered(msg.sender, encryption_key, licence_hash);
    }

    /// Allowed while paused: rotating a compromised key must never be blocked.
    function updateEncryptionKey(bytes32 encryption_key) external {
        Account storage account = _accounts[msg.sender];
        // Every role sets a non-zero key, so a zero key means no role.
        if (account.encryptionKey == bytes32(0)) revert NotRegistered(msg.sender);
        if (encryption_key == bytes32(0)) revert InvalidEncryptionKey();
        account.encryptionKey = encryption_key;
        emit EncryptionKeyUpdated(msg.sender, encryption_key);
    }

    // ------------------------------------------------------------ verification

    function verifyDoctor(address doctor) external {
        if (_checkedStatus(doctor) == STATUS_VERIFIED) revert DoctorAlreadyVerified(doctor);
        _accounts[doctor].doctorStatus = STATUS_VERIFIED;
        emit DoctorVerified(doctor, msg.sender);
    }

    function suspendDoctor(address doctor) external {
        if (_checkedStatus(doctor) == STATUS_SUSPENDED) revert DoctorAlreadySuspended(doctor);
        _accounts[doctor].doctorStatus = STATUS_SUSPENDED;
        emit DoctorSuspended(doctor, msg.sender);
    }

    // ------------------------------------------------------------ administration

    function addVerifier(address verifier) external onlyOwner {
        if (verifier == address(0)) revert InvalidVerifier(verifier);
        if (_verifiers[verifier]) revert VerifierAlreadyAdded(verifier);
        _verifiers[verifier] = true;
        emit VerifierAdded(verifier);
    }

    /// Doctors the removed verifier verified stay verified.
    function removeVerifier(address verifier) external onlyOwner {
        if (!_verifiers[verifier]) revert UnknownVerifier(verifier);
        delete _verifiers[verifier];
        emit VerifierRemoved(verifier);
    }

    function pause() external onlyOwner whenNotPaused {
        _paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyOwner {
        if (!_paused) revert ExpectedPause();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// Zero cancels a pending proposal.
    function transferOwnership(address new_owner) external onlyOwner {
        _pendingOwner = new_owner;
        emit OwnershipTransferStarted(msg.sender, new_owner);
    }

    function acceptOwnership() external {
        if (msg.sender != _pendingOwner || msg.sender == address(0)) {
            revert OwnableUnauthorizedAccount(msg.sender);
        }
        _transferOwnership(msg.sender);
    }

    function renounceOwnership() external onlyOwner {
        _transferOwnership(address(0));
    }

    // ------------------------------------------------------------ views

    function owner() external view returns (address) {
        return _owner;
    }

    function pendingOwner() external view returns (address) {
        return _pendingOwner;
    }

    function paused() external view returns (bool) {
        return _paused;
    }

    function isVerifier(address account) external view returns (bool) {
        return _verifiers[account];
    }

    function isPatient(address account) external view returns (bool) {
        return _accounts[account].isPatient;
    }

    function isVerifiedDoctor(address account) external view returns (bool) {
        return _accounts[account].doctorStatus == STATUS_VERIFIED;
    }

    function doctorStatus(address account) external view returns (uint8) {
        return _accounts[account].doctorStatus;
    }

    function encryptionKey(address account) external view returns (bytes32) {
        return _accounts[account].encryptionKey;
    }

    function licenceHash(address account) external view returns (bytes32) {
        return _accounts[account].licenceHash;
    }

    // ------------------------------------------------------------ internals

    /// Sets the key on an account's first role; a second role must bring the same key.
    function _claimKey(Account storage account, bytes32 key) internal {
        if (key == bytes32(0)) revert InvalidEncryptionKey();
        bytes32 registered = account.encryptionKey;
        if (registered == bytes32(0)) {
            account.encryptionKey = key;
        } else if (registered != key) {
            revert EncryptionKeyMismatch(registered);
        }
    }

    /// Common checks of verify and suspend (caller is the verifier); returns the doctor's status.
    function _checkedStatus(address doctor) internal view returns (uint8 status) {
        if (!_verifiers[msg.sender]) revert NotVerifier(msg.sender);
        if (msg.sender == doctor) revert SelfVerification();
        status = _accounts[doctor].doctorStatus;
        if (status == STATUS_NONE) revert UnknownDoctor(doctor);
    }

    /// Also drops a pending proposal, as the Rust `Ownable2Step::transfer` does.
    function _transferOwnership(address newOwner) internal {
        address previous = _owner;
        _owner = newOwner;
        _pendingOwner = address(0);
        emit OwnershipTransferred(previous, newOwner);
    }
}
