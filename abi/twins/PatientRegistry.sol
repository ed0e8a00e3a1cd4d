// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Solidity twin of contracts/patient-registry for scripts/bench's gas table; same surface and semantics.

import "../IPatientRegistry.sol";
import "./Common.sol";

/// Who is a patient, who is a doctor, and which doctors a quorum of accredited
/// verifiers has vouched for. The owner appoints verifiers (never itself), sets
/// the quorum and can pause (registrations here; new grants and emergency windows
/// in AccessToken). A patient names its emergency custodians here.
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
    // Zero reads as 1 (never set), as the Rust `Quorum::threshold`.
    uint8 internal _threshold;
    // doctor => verifiers who approved since the doctor's last change of status
    // (may hold lapsed approvals until the next approval filters them out).
    mapping(address => address[]) internal _approvers;
    // patient => its emergency custodians, in its order.
    mapping(address => address[]) internal _custodians;
    // doctor => the appointment of each approver (parallel to `_approvers`): an
    // approval counts only while its verifier holds the same appointment, so a
    // verifier removed and appointed again does not bring old approvals back.
    mapping(address => uint32[]) internal _approverAppointments;
    // verifier => how many times it was appointed (its current appointment).
    mapping(address => uint32) internal _appointments;

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

    /// One approval; the doctor becomes verified when the approvals of distinct
    /// current verifiers (in their current appointment) reach the threshold.
    /// Lapsed approvals are dropped here, at each approval. An earlier approver
    /// calling again completes the verification if the approvals already meet a
    /// lowered threshold, and reverts `AlreadyApproved` otherwise.
    function verifyDoctor(address doctor) external {
        address verifier = msg.sender;
        if (_checkedStatus(doctor) == STATUS_VERIFIED) revert DoctorAlreadyVerified(doctor);
        // Room for one more, appended below if the caller has not approved yet.
        (address[] memory approvers, uint32[] memory appointments) = _currentApprovals(doctor, 1);
        uint8 threshold = _thresholdOrOne();
        uint256 count = approvers.length;
        bool approvedAlready;
        for (uint256 i; i < count;) {
            if (approvers[i] == verifier) {
                approvedAlready = true;
                break;
            }
            unchecked {
                ++i;
            }
        }
        if (approvedAlready) {
            // An error, unless the owner lowered the threshold below the approvals
            // given, which would otherwise leave the doctor pending with no
            // verifier able to finish.
            if (count < threshold) revert AlreadyApproved(doctor, verifier);
        } else {
            uint32 appointment = _appointments[verifier];
            // Within the capacity `_currentApprovals` allocated.
            assembly ("memory-safe") {
                mstore(approvers, add(count, 1))
                mstore(appointments, add(count, 1))
            }
            approvers[count] = verifier;
            appointments[count] = appointment;
            unchecked {
                ++count;
            }
        }
        // At most MAX_VERIFICATION_THRESHOLD current approvals are ever kept, so this fits.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 approvals = count > type(uint8).max ? type(uint8).max : uint8(count);
        emit DoctorApproved(doctor, verifier, approvals, threshold);
        if (count >= threshold) {
            delete _approvers[doctor];
            delete _approverAppointments[doctor];
            _accounts[doctor].doctorStatus = STATUS_VERIFIED;
            emit DoctorVerified(doctor, verifier);
        } else {
            _approvers[doctor] = approvers;
            _approverAppointments[doctor] = appointments;
        }
    }

    /// One verifier suffices; the pending approvals are dropped, so only a full
    /// quorum can reinstate the doctor.
    function suspendDoctor(address doctor) external {
        if (_checkedStatus(doctor) == STATUS_SUSPENDED) revert DoctorAlreadySuspended(doctor);
        delete _approvers[doctor];
        delete _approverAppointments[doctor];
        _accounts[doctor].doctorStatus = STATUS_SUSPENDED;
        emit DoctorSuspended(doctor, msg.sender);
    }

    // ------------------------------------------------------------ administration

    function addVerifier(address verifier) external onlyOwner {
        if (verifier == address(0)) revert InvalidVerifier(verifier);
        if (verifier == _owner || verifier == _pendingOwner) revert OwnerCannotVerify(verifier);
        if (_verifiers[verifier]) revert VerifierAlreadyAdded(verifier);
        _verifiers[verifier] = true;
        // Wraps, as the Rust `wrapping_add`.
        unchecked {
            ++_appointments[verifier];
        }
        emit VerifierAdded(verifier);
    }

    /// Doctors the removed verifier verified stay verified. Its appointment counter
    /// stays, so a later appointment is a new one.
    function removeVerifier(address verifier) external onlyOwner {
        if (!_verifiers[verifier]) revert UnknownVerifier(verifier);
        delete _verifiers[verifier];
        emit VerifierRemoved(verifier);
    }

    /// Also stops new grants and new emergency windows in AccessToken, which asks `paused`.
    function pause() external onlyOwner whenNotPaused {
        _paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyOwner {
        if (!_paused) revert ExpectedPause();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// Zero cancels a pending proposal. A verifier cannot be proposed.
    function transferOwnership(address new_owner) external onlyOwner {
        if (_verifiers[new_owner]) revert OwnerCannotVerify(new_owner);
        _pendingOwner = new_owner;
        emit OwnershipTransferStarted(msg.sender, new_owner);
    }

    /// 1 to 8; approvals already given count towards it at the next approval.
    function setVerificationThreshold(uint8 threshold) external onlyOwner {
        if (threshold == 0 || threshold > MAX_VERIFICATION_THRESHOLD) revert InvalidThreshold(threshold);
        _threshold = threshold;
        emit VerificationThresholdSet(threshold);
    }

    // ------------------------------------------------------------ emergency custodians

    /// Replaces the caller's custodians (empty turns break-glass off). Allowed
    /// while paused. The list's own rules are checked over the whole list first,
    /// then the keys, as the Rust `check_list` then key search.
    function setEmergencyCustodians(address[] calldata custodians) external {
        address patient = msg.sender;
        if (!_accounts[patient].isPatient) revert NotPatient(patient);
        uint256 n = custodians.length;
        if (n > MAX_CUSTODIANS) revert TooManyCustodians(n);
        for (uint256 i; i < n; ++i) {
            address c = custodians[i];
            if (c == address(0) || c == patient) revert InvalidCustodian(c);
            for (uint256 j; j < i; ++j) {
                if (custodians[j] == c) revert InvalidCustodian(c);
            }
        }
        for (uint256 i; i < n; ++i) {
            if (_accounts[custodians[i]].encryptionKey == bytes32(0)) revert InvalidCustodian(custodians[i]);
        }
        _custodians[patient] = custodians;
        emit EmergencyCustodiansSet(patient, custodians);
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

    function verificationThreshold() external view returns (uint8) {
        return _thresholdOrOne();
    }

    /// The current verifiers who approved `doctor` since its last change of
    /// status (in their current appointment).
    function doctorApprovals(address doctor) external view returns (address[] memory approvers) {
        (approvers,) = _currentApprovals(doctor, 0);
    }

    function emergencyCustodians(address patient) external view returns (address[] memory) {
        return _custodians[patient];
    }

    function isEmergencyCustodian(address patient, address account) external view returns (bool) {
        if (account == address(0)) return false;
        address[] storage list = _custodians[patient];
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            if (list[i] == account) return true;
        }
        return false;
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

    function _thresholdOrOne() internal view returns (uint8) {
        uint8 t = _threshold;
        return t == 0 ? 1 : t;
    }

    /// The stored approvals of `doctor` that still count (their verifier is a
    /// verifier now, in the appointment it approved in), in stored order, as the
    /// Rust `current_approvals`. Both arrays are allocated with `spare` extra
    /// elements of capacity beyond the stored length, so a caller may append.
    function _currentApprovals(address doctor, uint256 spare)
        internal
        view
        returns (address[] memory approvers, uint32[] memory appointments)
    {
        address[] storage stored = _approvers[doctor];
        uint32[] storage storedAppointments = _approverAppointments[doctor];
        uint256 len = stored.length;
        // As the Rust `Quorum::approvals`: an approver without an appointment is skipped.
        if (storedAppointments.length < len) len = storedAppointments.length;
        approvers = new address[](len + spare);
        appointments = new uint32[](len + spare);
        uint256 n;
        for (uint256 i; i < len; ++i) {
            address a = stored[i];
            uint32 appointment = storedAppointments[i];
            if (_verifiers[a] && _appointments[a] == appointment) {
                approvers[n] = a;
                appointments[n] = appointment;
                ++n;
            }
        }
        assembly ("memory-safe") {
            mstore(approvers, n)
            mstore(appointments, n)
        }
    }

    /// Also drops a pending proposal, as the Rust `Ownable2Step::transfer` does.
    function _transferOwnership(address newOwner) internal {
        address previous = _owner;
        _owner = newOwner;
        _pendingOwner = address(0);
        emit OwnershipTransferred(previous, newOwner);
    }
}
