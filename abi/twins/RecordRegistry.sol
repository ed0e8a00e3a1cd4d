// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Solidity twin of contracts/record-registry for scripts/bench's gas table; same surface and semantics.

import "../IRecordRegistry.sol";
import "./Common.sol";

/// Pointers to encrypted records on IPFS, the per-reader wrapped keys that open
/// them, and the on-chain log of every read. Reads are gated by AccessToken.
contract RecordRegistry is IRecordRegistry {
    /// patient is zero for ids never created; versionCount shares its slot, so
    /// the access rule of every read costs one slot for both.
    struct Record {
        address patient;
        uint32 versionCount;
        bytes32 category;
    }

    /// One immutable version of a record.
    struct Version {
        bytes cid;
        bytes32 contentHash;
        uint64 timestamp;
        // reader => HPKE envelope of this version's content key.
        mapping(address => bytes) wrappedKeys;
    }

    // Set once at deployment and never changed: immutables, not storage slots.
    address internal immutable _patientRegistry;
    address internal immutable _accessToken;
    // The last id used; ids start at 1.
    uint256 internal _recordCount;
    mapping(uint256 => Record) internal _records;
    // record id => version number (from 1) => version.
    mapping(uint256 => mapping(uint256 => Version)) internal _versions;
    mapping(address => uint256[]) internal _patientRecords;

    constructor(address patientRegistry_, address accessToken_) {
        if (patientRegistry_ == address(0) || accessToken_ == address(0)) revert InvalidAddress();
        _patientRegistry = patientRegistry_;
        _accessToken = accessToken_;
    }

    /// Adds a record for the caller (a patient) with its first version and that
    /// version's key wrapped for each reader.
    function addRecord(
        bytes calldata cid,
        bytes32 content_hash,
        bytes32 category,
        address[] calldata readers,
        bytes[] calldata wrapped_keys
    ) external returns (uint256 recordId) {
        _checkVersion(cid, content_hash);
        _checkKeys(readers, wrapped_keys);
        (bool ok, bytes32 registered) =
            staticWord(_patientRegistry, abi.encodeCall(IPatientRegistryView.isPatient, (msg.sender)));
        if (!ok) revert RegistryUnavailable(_patientRegistry);
        if (registered == bytes32(0)) revert NotPatient(msg.sender);
        // 2^256 records cannot be added.
        unchecked {
            recordId = ++_recordCount;
        }
        _patientRecords[msg.sender].push(recordId);
        _records[recordId] = Record(msg.sender, 1, category);
        _append(recordId, 1, msg.sender, category, cid, content_hash, readers, wrapped_keys);
    }

    /// Appends a version (a correction, or a re-encryption after a revocation).
    /// Versions are never changed or removed.
    function addVersion(
        uint256 record_id,
        bytes calldata cid,
        bytes32 content_hash,
        address[] calldata readers,
        bytes[] calldata wrapped_keys
    ) external returns (uint32 version) {
        Record storage r = _ownedByCaller(record_id);
        _checkVersion(cid, content_hash);
        _checkKeys(readers, wrapped_keys);
        // The Rust code counts versions in a u32 too; 2^32 versions cannot be added.
        unchecked {
            version = r.versionCount + 1;
        }
        r.versionCount = version;
        _append(record_id, version, msg.sender, r.category, cid, content_hash, readers, wrapped_keys);
    }

    /// Publishes (or replaces) wrapped keys of an existing version, for readers
    /// granted after it was added. The patient may wrap for anyone; one of its
    /// emergency custodians only for doctors with an open emergency window on the
    /// patient who are verified now. A custodian's wrap logs every
    /// EmergencyKeyReleased first, then every KeyWrapped, as the Rust code.
    function wrapKeys(uint256 record_id, uint32 version, address[] calldata readers, bytes[] calldata wrapped_keys)
        external
    {
        Record storage r = _records[record_id];
        address patient = r.patient;
        if (patient == address(0)) revert UnknownRecord(record_id);
        bool custodian = msg.sender != patient;
        if (custodian) _checkCustodianRelease(patient, msg.sender, record_id, readers);
        _checkKeys(readers, wrapped_keys);
        if (version == 0 || version > r.versionCount) revert UnknownVersion(record_id, version);
        if (custodian) {
            for (uint256 i; i < readers.length;) {
                emit EmergencyKeyReleased(record_id, patient, readers[i], msg.sender, version);
                unchecked {
                    ++i;
                }
            }
        }
        _publishKeys(record_id, version, readers, wrapped_keys);
    }

    /// Logs a read by the caller; honest clients call it before every fetch.
    function accessRecord(uint256 record_id) external returns (uint32 version) {
        address patient;
        (patient, version) = _readable(msg.sender, record_id);
        emit RecordAccessed(record_id, patient, msg.sender, version);
    }

    function getRecord(uint256 record_id)
        external
        view
        returns (address, uint32, bytes memory, bytes32, bytes32, uint64)
    {
        (, uint32 version) = _readable(msg.sender, record_id);
        return _view(record_id, version);
    }

    function getRecordVersion(uint256 record_id, uint32 version)
        external
        view
        returns (address, uint32, bytes memory, bytes32, bytes32, uint64)
    {
        _readable(msg.sender, record_id);
        return _view(record_id, version);
    }

    /// The patient may read any reader's key; a reader only its own, while it has
    /// access; an emergency custodian of the patient its own at any time.
    function wrappedKey(uint256 record_id, uint32 version, address reader) external view returns (bytes memory key) {
        address patient = _records[record_id].patient;
        if (patient == address(0)) revert UnknownRecord(record_id);
        // The registry is asked only for a caller reading its own key; not answered: not a custodian.
        bool ownAsCustodian = msg.sender == reader && msg.sender != patient && _isCustodian(patient, msg.sender);
        if (!ownAsCustodian) _readable(msg.sender, record_id);
        if (msg.sender != patient && msg.sender != reader) revert AccessDenied(msg.sender, record_id);
        // Versions outside 1..versionCount were never written, so they hold no key either.
        key = _versions[record_id][version].wrappedKeys[reader];
        if (key.length == 0) revert NoWrappedKey(record_id, version, reader);
    }

    /// False for unknown records. Never reverts.
    function canRead(address reader, uint256 record_id) external view returns (bool) {
        Record storage r = _records[record_id];
        address patient = r.patient;
        if (patient == address(0)) return false;
        return reader == patient || _checkAccess(patient, reader, record_id, r.category);
    }

    function recordCategory(uint256 record_id) external view returns (bytes32) {
        Record storage r = _records[record_id];
        if (r.patient == address(0)) revert UnknownRecord(record_id);
        return r.category;
    }

    function recordOwner(uint256 record_id) external view returns (address) {
        return _records[record_id].patient;
    }

    function versionCount(uint256 record_id) external view returns (uint32) {
        return _records[record_id].versionCount;
    }

    function recordCount() external view returns (uint256) {
        return _recordCount;
    }

    function recordsOf(address patient) external view returns (uint256[] memory) {
        return _patientRecords[patient];
    }

    function patientRegistry() external view returns (address) {
        return _patientRegistry;
    }

    function accessToken() external view returns (address) {
        return _accessToken;
    }

    // ------------------------------------------------------------ internals

    function _ownedByCaller(uint256 recordId) internal view returns (Record storage r) {
        r = _records[recordId];
        address patient = r.patient;
        if (patient == address(0)) revert UnknownRecord(recordId);
        if (msg.sender != patient) revert NotRecordOwner(msg.sender, recordId);
    }

    /// PatientRegistry.isEmergencyCustodian; `ok` is false when it cannot be asked.
    function _tryCustodian(address patient, address account) internal view returns (bool ok, bool yes) {
        bytes32 word;
        (ok, word) = staticWord(
            _patientRegistry, abi.encodeCall(IPatientRegistryView.isEmergencyCustodian, (patient, account))
        );
        yes = word != bytes32(0);
    }

    function _isCustodian(address patient, address account) internal view returns (bool) {
        (bool ok, bool yes) = _tryCustodian(patient, account);
        return ok && yes;
    }

    /// The rule of a custodian's release: the caller is one of the patient's
    /// custodians, and every reader holds an open emergency window on the patient
    /// and is verified now (AccessToken.hasEmergencyAccess; not answered: no).
    function _checkCustodianRelease(address patient, address custodian, uint256 recordId, address[] calldata readers)
        internal
        view
    {
        (bool ok, bool isCustodian) = _tryCustodian(patient, custodian);
        if (!ok) revert RegistryUnavailable(_patientRegistry);
        if (!isCustodian) revert NotRecordOwner(custodian, recordId);
        for (uint256 i; i < readers.length;) {
            (bool answered, bytes32 open) = staticWord(
                _accessToken, abi.encodeCall(IAccessTokenView.hasEmergencyAccess, (patient, readers[i]))
            );
            if (!answered || open == bytes32(0)) revert NoEmergencyAccess(patient, readers[i]);
            unchecked {
                ++i;
            }
        }
    }

    /// The access rule of every read: the patient, or whoever AccessToken says.
    function _readable(address reader, uint256 recordId) internal view returns (address patient, uint32 version) {
        Record storage r = _records[recordId];
        patient = r.patient;
        if (patient == address(0)) revert UnknownRecord(recordId);
        if (reader != patient && !_checkAccess(patient, reader, recordId, r.category)) {
            revert AccessDenied(reader, recordId);
        }
        version = r.versionCount;
    }

    /// AccessToken.checkAccess; false when it cannot be asked (fail closed).
    function _checkAccess(address patient, address reader, uint256 recordId, bytes32 category)
        internal
        view
        returns (bool)
    {
        (bool ok, bytes32 word) = staticWord(
            _accessToken, abi.encodeCall(IAccessTokenView.checkAccess, (patient, reader, recordId, category))
        );
        return ok && word != bytes32(0);
    }

    function _view(uint256 recordId, uint32 version)
        internal
        view
        returns (address, uint32, bytes memory, bytes32, bytes32, uint64)
    {
        Record storage r = _records[recordId];
        if (version == 0 || version > r.versionCount) revert UnknownVersion(recordId, version);
        Version storage v = _versions[recordId][version];
        return (r.patient, version, v.cid, v.contentHash, r.category, v.timestamp);
    }

    function _append(
        uint256 recordId,
        uint32 version,
        address patient,
        bytes32 category,
        bytes calldata cid,
        bytes32 contentHash,
        address[] calldata readers,
        bytes[] calldata wrappedKeys
    ) internal {
        Version storage v = _versions[recordId][version];
        v.cid = cid;
        v.contentHash = contentHash;
        v.timestamp = uint64(block.timestamp);
        emit RecordAdded(recordId, patient, version, category, contentHash);
        _publishKeys(recordId, version, readers, wrappedKeys);
    }

    function _publishKeys(uint256 recordId, uint32 version, address[] calldata readers, bytes[] calldata wrappedKeys)
        internal
    {
        mapping(address => bytes) storage keys = _versions[recordId][version].wrappedKeys;
        for (uint256 i; i < readers.length;) {
            keys[readers[i]] = wrappedKeys[i];
            emit KeyWrapped(recordId, readers[i], version);
            unchecked {
                ++i;
            }
        }
    }

    function _checkVersion(bytes calldata cid, bytes32 contentHash) internal pure {
        if (cid.length == 0 || cid.length > MAX_CID_LEN) revert InvalidCid();
        if (contentHash == bytes32(0)) revert InvalidContentHash();
    }

    function _checkKeys(address[] calldata readers, bytes[] calldata wrappedKeys) internal pure {
        if (readers.length != wrappedKeys.length) revert LengthMismatch(readers.length, wrappedKeys.length);
        for (uint256 i; i < readers.length;) {
            uint256 len = wrappedKeys[i].length;
            if (readers[i] == address(0) || len == 0 || len > MAX_WRAPPED_KEY_LEN) {
                revert InvalidWrappedKey(readers[i]);
            }
            unchecked {
                ++i;
            }
        }
    }
}
