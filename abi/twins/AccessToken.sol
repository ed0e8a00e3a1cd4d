// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Solidity twin of contracts/access-token for scripts/bench's gas table; same surface and semantics.

import "../IAccessToken.sol";
import "./Common.sol";

/// A patient's grants to doctors as non-transferable ERC-721 tokens (EIP-5192),
/// plus break-glass emergency windows. Every check asks PatientRegistry whether
/// the doctor is verified now, so a suspension works at once. Break-glass needs a
/// reason code and a patient with a custodian; the patient's close bars the
/// doctor for 30 days; a doctor opens at most the daily limit of windows per
/// rolling day; a pause of PatientRegistry stops new windows and new grants.
// Expiry is the design, as in the Rust contract; a validator's seconds of skew
// do not matter against windows of hours.
// forge-lint: disable-next-item(block-timestamp)
contract AccessToken is IAccessToken {
    /// The terms of one grant. patient, expiresAt and scopeKind share a slot, so
    /// an access check reads one slot per grant (plus one for a record or
    /// category). The doctor is the token's owner and is not stored twice.
    struct Grant {
        address patient;
        uint64 expiresAt;
        uint8 scopeKind;
        uint64 issuedAt;
        bytes32 category;
    }

    // Set once at deployment and never changed: immutable, not a storage slot.
    address internal immutable _patientRegistry;
    address internal _recordRegistry;
    // The last id minted; ids start at 1 and are never reused.
    uint256 internal _lastTokenId;

    mapping(uint256 => address) internal _owners;
    mapping(address => uint256) internal _balances;
    mapping(uint256 => Grant) internal _grants;
    // A grant's listed record ids, for enumeration by clients. Kept when the
    // grant is burnt: ids are never reused and the token's absence hides them.
    mapping(uint256 => uint256[]) internal _grantRecords;
    // The same ids, for an O(1) membership test.
    mapping(uint256 => mapping(uint256 => bool)) internal _listed;
    // patient => doctor => live token ids (at most MAX_GRANTS_PER_PAIR).
    mapping(address => mapping(address => uint256[])) internal _pairTokens;
    // patient => doctor => end of the emergency window (exclusive), or 0.
    mapping(address => mapping(address => uint64)) internal _emergency;
    // patient => doctor => end of the bar (exclusive), or 0.
    mapping(address => mapping(address => uint64)) internal _bars;
    // doctor => the times of its openings within the last rolling day (at most
    // MAX_EMERGENCY_DAILY_LIMIT; older ones are dropped at each opening).
    mapping(address => uint64[]) internal _opens;
    uint8 internal _dailyLimit;

    constructor(address patientRegistry_) {
        if (patientRegistry_ == address(0)) revert InvalidAddress();
        _patientRegistry = patientRegistry_;
        _dailyLimit = DEFAULT_EMERGENCY_DAILY_LIMIT;
    }

    /// Once only, and only by the PatientRegistry's owner.
    function linkRecordRegistry(address record_registry) external {
        if (record_registry == address(0)) revert InvalidAddress();
        address linked = _recordRegistry;
        if (linked != address(0)) revert AlreadyLinked(linked);
        _onlyRegistryOwner();
        _recordRegistry = record_registry;
        emit RecordRegistryLinked(record_registry);
    }

    // ------------------------------------------------------------ grants

    function grant(
        address doctor,
        uint64 expires_at,
        uint8 scope_kind,
        bytes32 category,
        uint256[] calldata record_ids
    ) external returns (uint256 tokenId) {
        address patient = msg.sender;
        if (doctor == address(0) || doctor == patient) revert InvalidGrantee(doctor);
        if (expires_at <= block.timestamp) revert InvalidExpiry(expires_at);
        _checkScope(scope_kind, category, record_ids.length);
        uint256[] storage pair = _pairTokens[patient][doctor];
        if (pair.length >= MAX_GRANTS_PER_PAIR) {
            // Old grants must never block new ones: burn the expired first.
            _pruneExpired(patient, doctor);
            if (pair.length >= MAX_GRANTS_PER_PAIR) revert TooManyGrants(patient, doctor);
        }
        _whenNotPaused();
        if (!_askRegistry(patient, false)) revert NotPatient(patient);
        if (!_askRegistry(doctor, true)) revert DoctorNotVerified(doctor);

        // 2^256 grants cannot be minted.
        unchecked {
            tokenId = ++_lastTokenId;
        }
        _grants[tokenId] = Grant(patient, expires_at, scope_kind, uint64(block.timestamp), category);
        uint256[] memory listed;
        if (record_ids.length != 0) listed = _listRecords(tokenId, record_ids);
        pair.push(tokenId);
        _mint(doctor, tokenId);
        emit AccessGranted(tokenId, patient, doctor, expires_at, scope_kind, category, listed);
    }

    function revoke(uint256 token_id) external {
        address doctor = _requireOwned(token_id);
        address patient = _grants[token_id].patient;
        if (msg.sender != patient) revert NotGrantor(msg.sender, token_id);
        _removeGrant(patient, doctor, token_id);
        emit AccessRevoked(token_id, patient, doctor);
    }

    // ------------------------------------------------------------ break-glass

    /// Opening again restarts the window and counts as another opening; the
    /// window length is fixed. Checks in the Rust order.
    function openEmergencyAccess(address patient, uint8 reason) external returns (uint64 expiresAt) {
        address doctor = msg.sender;
        if (reason == 0 || reason > EMERGENCY_REASON_MAX) revert InvalidReason(reason);
        if (patient == doctor) revert InvalidGrantee(doctor);
        _whenNotPaused();
        if (!_askRegistry(doctor, true)) revert DoctorNotVerified(doctor);
        if (!_askRegistry(patient, false)) revert NotPatient(patient);
        (bool ok, uint256 custodians) = staticArrayLength(
            _patientRegistry, abi.encodeCall(IPatientRegistryView.emergencyCustodians, (patient))
        );
        if (!ok) revert RegistryUnavailable(_patientRegistry);
        if (custodians == 0) revert NoEmergencyCustodian(patient);
        uint64 now_ = uint64(block.timestamp);
        uint64 barredUntil = _bars[patient][doctor];
        if (barredUntil > now_) revert EmergencyBarred(patient, doctor, barredUntil);
        uint8 limit = _dailyLimit;
        uint64[] memory recent = _recentOpens(doctor, now_);
        if (recent.length >= limit) revert EmergencyLimitReached(doctor, limit);
        // The stored list becomes the recent openings plus this one (older ones
        // dropped), as the Rust code rewrites it; written in place.
        uint64[] storage opens = _opens[doctor];
        uint256 keep = recent.length;
        for (uint256 i; i < keep;) {
            opens[i] = recent[i];
            unchecked {
                ++i;
            }
        }
        if (keep == opens.length) {
            opens.push(now_);
        } else {
            opens[keep] = now_;
            for (uint256 i = opens.length; i > keep + 1;) {
                opens.pop();
                unchecked {
                    --i;
                }
            }
        }
        expiresAt = now_ + EMERGENCY_WINDOW_SECS;
        _emergency[patient][doctor] = expiresAt;
        emit EmergencyAccess(patient, doctor, expiresAt, reason);
    }

    /// Ends the window and bars that doctor on the caller for 30 days.
    function closeEmergencyAccess(address doctor) external {
        address patient = msg.sender;
        if (_emergency[patient][doctor] <= block.timestamp) revert NoEmergencyAccess(patient, doctor);
        uint64 barredUntil = uint64(block.timestamp) + EMERGENCY_BAR_SECS;
        _emergency[patient][doctor] = 0;
        _bars[patient][doctor] = barredUntil;
        emit EmergencyAccessClosed(patient, doctor, barredUntil);
    }

    function liftEmergencyBar(address doctor) external {
        address patient = msg.sender;
        if (_bars[patient][doctor] <= block.timestamp) revert NotBarred(patient, doctor);
        _bars[patient][doctor] = 0;
        emit EmergencyBarLifted(patient, doctor);
    }

    /// 0 turns break-glass off; at most 16. By the PatientRegistry's owner.
    function setEmergencyDailyLimit(uint8 limit) external {
        _onlyRegistryOwner();
        if (limit > MAX_EMERGENCY_DAILY_LIMIT) revert InvalidEmergencyLimit(limit);
        _dailyLimit = limit;
        emit EmergencyLimitSet(limit);
    }

    // ------------------------------------------------------------ access checks

    /// Never reverts; the linked RecordRegistry says whose the record is and, for a
    /// category scope, its category. False while none is linked.
    function hasAccess(address patient, address doctor, uint256 record_id) external view returns (bool) {
        return _access(patient, doctor, record_id, false, bytes32(0));
    }

    /// For a caller that already knows the record's patient and category
    /// (RecordRegistry), which it vouches for. Never reverts.
    function checkAccess(address patient, address doctor, uint256 record_id, bytes32 category)
        external
        view
        returns (bool)
    {
        return _access(patient, doctor, record_id, true, category);
    }

    function emergencyExpiry(address patient, address doctor) external view returns (uint64) {
        return _emergency[patient][doctor];
    }

    /// Window open now and doctor verified now: what a custodian's release needs. Never reverts.
    function hasEmergencyAccess(address patient, address doctor) external view returns (bool) {
        if (patient == address(0) || patient == doctor) return false;
        if (_emergency[patient][doctor] <= block.timestamp) return false;
        (bool ok, bool verified) = _tryRegistry(doctor, true);
        return ok && verified;
    }

    function emergencyBarredUntil(address patient, address doctor) external view returns (uint64) {
        return _bars[patient][doctor];
    }

    function emergencyDailyLimit() external view returns (uint8) {
        return _dailyLimit;
    }

    function emergencyOpensLastDay(address doctor) external view returns (uint8) {
        // At most MAX_EMERGENCY_DAILY_LIMIT (16) openings are ever kept.
        return uint8(_recentOpens(doctor, uint64(block.timestamp)).length);
    }

    function emergencyWindow() external view returns (uint64) {
        return EMERGENCY_WINDOW_SECS;
    }

    function grantInfo(uint256 token_id) external view returns (address, address, uint64, uint64, uint8, bytes32) {
        address doctor = _requireOwned(token_id);
        Grant storage g = _grants[token_id];
        return (g.patient, doctor, g.issuedAt, g.expiresAt, g.scopeKind, g.category);
    }

    function grantRecords(uint256 token_id) external view returns (uint256[] memory) {
        _requireOwned(token_id);
        return _grantRecords[token_id];
    }

    /// Expired grants stay listed until revoked, or burnt by a grant that needs their place.
    function tokensOf(address patient, address doctor) external view returns (uint256[] memory) {
        return _pairTokens[patient][doctor];
    }

    function patientRegistry() external view returns (address) {
        return _patientRegistry;
    }

    function recordRegistry() external view returns (address) {
        return _recordRegistry;
    }

    function totalMinted() external view returns (uint256) {
        return _lastTokenId;
    }

    // ------------------------------------------------------------ ERC-721 / EIP-5192 / ERC-165

    function name() external view returns (string memory) {
        return "CareLedger Access";
    }

    function symbol() external view returns (string memory) {
        return "CLA";
    }

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[owner];
    }

    function ownerOf(uint256 token_id) external view returns (address) {
        return _requireOwned(token_id);
    }

    /// EIP-5192: every existing token is locked for good.
    function locked(uint256 token_id) external view returns (bool) {
        _requireOwned(token_id);
        return true;
    }

    /// Nobody is ever approved.
    function getApproved(uint256 token_id) external view returns (address) {
        _requireOwned(token_id);
        return address(0);
    }

    function isApprovedForAll(address, address) external view returns (bool) {
        return false;
    }

    /// ERC-165, ERC-721 and EIP-5192 (no metadata: there is no tokenURI).
    function supportsInterface(bytes4 interface_id) external view returns (bool) {
        return interface_id == 0x01ffc9a7 || interface_id == 0x80ac58cd || interface_id == 0xb45a3c0e;
    }

    function transferFrom(address, address, uint256 token_id) external {
        revert TokenLocked(token_id);
    }

    function safeTransferFrom(address, address, uint256 token_id) external {
        revert TokenLocked(token_id);
    }

    function safeTransferFrom(address, address, uint256 token_id, bytes calldata) external {
        revert TokenLocked(token_id);
    }

    function approve(address, uint256) external {
        revert ApprovalsDisabled();
    }

    function setApprovalForAll(address, bool) external {
        revert ApprovalsDisabled();
    }

    // ------------------------------------------------------------ internals

    function _requireOwned(uint256 tokenId) internal view returns (address owner) {
        owner = _owners[tokenId];
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }

    function _mint(address to, uint256 tokenId) internal {
        _owners[tokenId] = to;
        // A balance counts distinct token ids, so it cannot overflow.
        unchecked {
            ++_balances[to];
        }
        emit Transfer(address(0), to, tokenId);
        emit Locked(tokenId);
    }

    function _burn(address owner, uint256 tokenId) internal {
        delete _owners[tokenId];
        unchecked {
            --_balances[owner];
        }
        emit Transfer(owner, address(0), tokenId);
    }

    /// Stores a grant's record ids, duplicates dropped; returns them as listed.
    function _listRecords(uint256 tokenId, uint256[] calldata ids) internal returns (uint256[] memory unique) {
        mapping(uint256 => bool) storage listed = _listed[tokenId];
        unique = new uint256[](ids.length);
        uint256 n;
        for (uint256 i; i < ids.length;) {
            uint256 id = ids[i];
            if (!listed[id]) {
                listed[id] = true;
                unique[n] = id;
                unchecked {
                    ++n;
                }
            }
            unchecked {
                ++i;
            }
        }
        if (n != ids.length) {
            uint256[] memory trimmed = new uint256[](n);
            for (uint256 i; i < n;) {
                trimmed[i] = unique[i];
                unchecked {
                    ++i;
                }
            }
            unique = trimmed;
        }
        _grantRecords[tokenId] = unique;
    }

    /// Burns a grant and drops it from its pair's list (swap-remove, as the Rust code).
    function _removeGrant(address patient, address doctor, uint256 tokenId) internal {
        uint256[] storage ids = _pairTokens[patient][doctor];
        uint256 len = ids.length;
        for (uint256 i; i < len;) {
            if (ids[i] == tokenId) {
                if (i + 1 != len) ids[i] = ids[len - 1];
                ids.pop();
                break;
            }
            unchecked {
                ++i;
            }
        }
        delete _grants[tokenId];
        _burn(doctor, tokenId);
    }

    /// Burns the pair's expired grants, in list order, each with AccessRevoked so
    /// that an indexer drops it.
    function _pruneExpired(address patient, address doctor) internal {
        uint256[] memory ids = _pairTokens[patient][doctor];
        for (uint256 i; i < ids.length;) {
            // The list is snapshotted first, so removals cannot skip an entry.
            if (_grants[ids[i]].expiresAt <= block.timestamp) {
                _removeGrant(patient, doctor, ids[i]);
                emit AccessRevoked(ids[i], patient, doctor);
            }
            unchecked {
                ++i;
            }
        }
    }

    /// The doctor's openings within the rolling day that ends at `now_`, in stored order.
    function _recentOpens(address doctor, uint64 now_) internal view returns (uint64[] memory recent) {
        uint64[] storage opens = _opens[doctor];
        uint256 len = opens.length;
        recent = new uint64[](len);
        uint256 n;
        for (uint256 i; i < len;) {
            uint64 t = opens[i];
            // Saturating, as the Rust `saturating_add`.
            uint64 end = t > type(uint64).max - EMERGENCY_LIMIT_PERIOD_SECS
                ? type(uint64).max
                : t + EMERGENCY_LIMIT_PERIOD_SECS;
            if (end > now_) recent[n++] = t;
            unchecked {
                ++i;
            }
        }
        assembly ("memory-safe") {
            mstore(recent, n)
        }
    }

    /// Reverts unless the caller owns the PatientRegistry.
    function _onlyRegistryOwner() internal view {
        (bool ok, bytes32 word) = staticWord(_patientRegistry, abi.encodeCall(IPatientRegistryView.owner, ()));
        if (!ok) revert RegistryUnavailable(_patientRegistry);
        if (address(uint160(uint256(word))) != msg.sender) revert NotRegistryOwner(msg.sender);
    }

    /// Reverts while PatientRegistry is paused.
    function _whenNotPaused() internal view {
        (bool ok, bytes32 word) = staticWord(_patientRegistry, abi.encodeCall(IPatientRegistryView.paused, ()));
        if (!ok) revert RegistryUnavailable(_patientRegistry);
        if (word != bytes32(0)) revert EnforcedPause();
    }

    /// Asks PatientRegistry whether `account` is a verified doctor (`doctor`) or a
    /// registered patient; `ok` is false if it could not be asked.
    function _tryRegistry(address account, bool doctor) internal view returns (bool ok, bool yes) {
        bytes memory data = doctor
            ? abi.encodeCall(IPatientRegistryView.isVerifiedDoctor, (account))
            : abi.encodeCall(IPatientRegistryView.isPatient, (account));
        bytes32 word;
        (ok, word) = staticWord(_patientRegistry, data);
        yes = word != bytes32(0);
    }

    function _askRegistry(address account, bool doctor) internal view returns (bool yes) {
        bool ok;
        (ok, yes) = _tryRegistry(account, doctor);
        if (!ok) revert RegistryUnavailable(_patientRegistry);
    }

    /// The access rule. `known` is false when the caller does not know the
    /// category; it is then fetched (once) only if a category grant needs it.
    function _access(address patient, address doctor, uint256 recordId, bool known, bytes32 category)
        internal
        view
        returns (bool)
    {
        if (patient == address(0) || doctor == address(0)) return false;
        // `known` also says the caller vouched for the record's patient.
        bool vouched = known;
        bool covered = patient == doctor || _emergency[patient][doctor] > block.timestamp;
        if (!covered) {
            uint256[] storage ids = _pairTokens[patient][doctor];
            uint256 len = ids.length;
            for (uint256 i; i < len;) {
                uint256 id = ids[i];
                Grant storage g = _grants[id];
                if (g.expiresAt > block.timestamp) {
                    uint8 kind = g.scopeKind;
                    if (kind == SCOPE_ALL) {
                        covered = true;
                    } else if (kind == SCOPE_RECORDS) {
                        covered = _listed[id][recordId];
                    } else {
                        if (!known) {
                            category = _categoryOf(recordId);
                            known = true;
                        }
                        covered = category != bytes32(0) && category == g.category;
                    }
                    if (covered) break;
                }
                unchecked {
                    ++i;
                }
            }
        }
        if (!covered) return false;
        // A grant from one patient must not open another patient's record.
        if (!vouched && _ownerOfRecord(recordId) != patient) return false;
        if (patient == doctor) return true;
        (bool ok, bool verified) = _tryRegistry(doctor, true);
        return ok && verified;
    }

    /// The patient a record belongs to; zero when unknown, unlinked or not
    /// answered with a well-formed address (where the Rust decode fails).
    function _ownerOfRecord(uint256 recordId) internal view returns (address) {
        address records = _recordRegistry;
        if (records == address(0)) return address(0);
        (bool ok, bytes32 word) = staticWord(records, abi.encodeCall(IRecordRegistryView.recordOwner, (recordId)));
        if (!ok || uint256(word) >> 160 != 0) return address(0);
        return address(uint160(uint256(word)));
    }

    /// The category of a record; zero when unknown, unlinked or not answered.
    function _categoryOf(uint256 recordId) internal view returns (bytes32 category) {
        address records = _recordRegistry;
        if (records == address(0)) return bytes32(0);
        (, category) = staticWord(records, abi.encodeCall(IRecordRegistryView.recordCategory, (recordId)));
    }

    /// Checks that a scope's arguments fit its kind.
    function _checkScope(uint8 kind, bytes32 category, uint256 count) internal pure {
        bool ok;
        if (kind == SCOPE_ALL) {
            ok = category == bytes32(0) && count == 0;
        } else if (kind == SCOPE_RECORDS) {
            if (count > MAX_SCOPE_RECORDS) revert TooManyRecords(count);
            ok = category == bytes32(0) && count != 0;
        } else if (kind == SCOPE_CATEGORY) {
            ok = category != bytes32(0) && count == 0;
        }
        if (!ok) revert InvalidScope(kind);
    }
}
