// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Quick checks of the main paths of the Solidity twins (abi/twins/), which
// scripts/bench uses for its gas table. No forge-std offline: the cheatcodes are
// declared here and failures are reverts.

import {PatientRegistry} from "../twins/PatientRegistry.sol";
import {AccessToken} from "../twins/AccessToken.sol";
import {RecordRegistry} from "../twins/RecordRegistry.sol";
import {IPatientRegistry} from "../IPatientRegistry.sol";
import {IAccessToken} from "../IAccessToken.sol";
import {IRecordRegistry} from "../IRecordRegistry.sol";

interface Vm {
    function warp(uint256) external;
    function prank(address) external;
    function startPrank(address) external;
    function stopPrank() external;
    function expectRevert(bytes4) external;
    function expectRevert(bytes calldata) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
    function load(address target, bytes32 slot) external view returns (bytes32);
}

struct Log {
    bytes32[] topics;
    bytes data;
    address emitter;
}

contract TwinsTest {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant OWNER = address(0x10ee);
    address internal constant VERIFIER = address(0x10dd);
    address internal constant PATIENT = address(0x1001);
    address internal constant OTHER_PATIENT = address(0x1002);
    address internal constant DOCTOR = address(0x1011);
    address internal constant PENDING_DOCTOR = address(0x1013);
    address internal constant STRANGER = address(0x1099);
    address internal constant VERIFIER2 = address(0x10dc);
    address internal constant VERIFIER3 = address(0x10db);
    address internal constant DOCTOR2 = address(0x1012);
    address internal constant CUSTODIAN = address(0x10c1);
    address internal constant CUSTODIAN2 = address(0x10c2);
    bytes32 internal constant CAT_LAB = bytes32(uint256(0x1a));
    bytes32 internal constant CAT_XRAY = bytes32(uint256(0x2b));
    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant HOUR = 3600;
    uint64 internal constant DAY = 24 * HOUR;
    uint8 internal constant UNCONSCIOUS = 1;
    uint8 internal constant OTHER_URGENT = 4;

    PatientRegistry internal registry;
    AccessToken internal token;
    RecordRegistry internal records;

    function setUp() public {
        vm.warp(T0);
        registry = new PatientRegistry(OWNER);
        token = new AccessToken(address(registry));
        records = new RecordRegistry(address(registry), address(token));
        vm.startPrank(OWNER);
        registry.addVerifier(VERIFIER);
        token.linkRecordRegistry(address(records));
        vm.stopPrank();
        vm.prank(PATIENT);
        registry.registerPatient(bytes32(uint256(1)));
        vm.prank(OTHER_PATIENT);
        registry.registerPatient(bytes32(uint256(2)));
        vm.prank(DOCTOR);
        registry.registerDoctor(bytes32(uint256(0x11)), bytes32(uint256(0x77)));
        vm.prank(PENDING_DOCTOR);
        registry.registerDoctor(bytes32(uint256(0x13)), bytes32(uint256(0x77)));
        vm.prank(VERIFIER);
        registry.verifyDoctor(DOCTOR);
    }

    // ------------------------------------------------------------ helpers

    function _grant(address doctor, uint64 expiresAt, uint8 kind, bytes32 category, uint256[] memory ids)
        internal
        returns (uint256)
    {
        vm.prank(PATIENT);
        return token.grant(doctor, expiresAt, kind, category, ids);
    }

    function _grantAll(uint64 expiresAt) internal returns (uint256) {
        return _grant(DOCTOR, expiresAt, 0, bytes32(0), new uint256[](0));
    }

    function _addRecord(bytes32 category) internal returns (uint256) {
        address[] memory readers = new address[](1);
        readers[0] = PATIENT;
        bytes[] memory keys = new bytes[](1);
        keys[0] = new bytes(80);
        vm.prank(PATIENT);
        return records.addRecord(hex"01551220aabbccdd", bytes32(uint256(0xc0ffee)), category, readers, keys);
    }

    /// Registers `custodian` (as a patient, for its key) if needed and names it
    /// `patient`'s only custodian.
    function _nameCustodian(address patient, address custodian) internal {
        if (registry.encryptionKey(custodian) == bytes32(0)) {
            vm.prank(custodian);
            registry.registerPatient(bytes32(uint256(uint160(custodian))));
        }
        vm.prank(patient);
        registry.setEmergencyCustodians(_addrs(custodian));
    }

    function _registerVerifiedDoctor(address doctor) internal {
        vm.prank(doctor);
        registry.registerDoctor(bytes32(uint256(uint160(doctor))), bytes32(uint256(0x77)));
        vm.prank(VERIFIER);
        registry.verifyDoctor(doctor);
    }

    function _open(address doctor, address patient) internal returns (uint64) {
        vm.prank(doctor);
        return token.openEmergencyAccess(patient, UNCONSCIOUS);
    }

    function _addrs(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _addrs(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (a, b);
    }

    function _keys(bytes memory a) internal pure returns (bytes[] memory list) {
        list = new bytes[](1);
        list[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        (ids[0], ids[1]) = (a, b);
    }

    // ------------------------------------------------------------ PatientRegistry

    function test_register_and_verify() public {
        require(registry.owner() == OWNER, "owner");
        require(registry.isPatient(PATIENT) && !registry.isPatient(DOCTOR), "isPatient");
        require(registry.isVerifiedDoctor(DOCTOR), "verified");
        require(registry.doctorStatus(PENDING_DOCTOR) == 1 && !registry.isVerifiedDoctor(PENDING_DOCTOR), "pending");
        require(registry.encryptionKey(DOCTOR) == bytes32(uint256(0x11)), "key");

        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.AlreadyRegistered.selector, PATIENT));
        registry.registerPatient(bytes32(uint256(1)));
        // A second role must bring the registered key.
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.EncryptionKeyMismatch.selector, bytes32(uint256(1))));
        registry.registerDoctor(bytes32(uint256(9)), bytes32(uint256(0x77)));
        vm.prank(VERIFIER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.DoctorAlreadyVerified.selector, DOCTOR));
        registry.verifyDoctor(DOCTOR);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.NotVerifier.selector, STRANGER));
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.prank(OWNER);
        registry.pause();
        vm.prank(STRANGER);
        vm.expectRevert(IPatientRegistry.EnforcedPause.selector);
        registry.registerPatient(bytes32(uint256(5)));
    }

    // ------------------------------------------------------------ AccessToken

    function test_grant_gives_access_to_that_pair_only() public {
        uint256 r = _addRecord(bytes32(0));
        uint256 id = _grantAll(T0 + HOUR);
        require(id == 1 && token.totalMinted() == 1, "id");
        require(token.ownerOf(id) == DOCTOR && token.balanceOf(DOCTOR) == 1, "owner");
        require(token.locked(id), "locked");
        (address patient, address doctor, uint64 issued, uint64 expires, uint8 kind,) = token.grantInfo(id);
        require(patient == PATIENT && doctor == DOCTOR && issued == T0 && expires == T0 + HOUR && kind == 0, "info");
        require(token.hasAccess(PATIENT, DOCTOR, r), "granted");
        require(!token.hasAccess(OTHER_PATIENT, DOCTOR, r), "other patient");
        require(!token.hasAccess(PATIENT, PENDING_DOCTOR, r), "other doctor");
        require(token.hasAccess(PATIENT, PATIENT, r), "self");

        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.TokenLocked.selector, id));
        token.transferFrom(DOCTOR, STRANGER, id);

        // Suspension stops the grant at once; reinstatement restores it.
        vm.prank(VERIFIER);
        registry.suspendDoctor(DOCTOR);
        require(!token.hasAccess(PATIENT, DOCTOR, r), "suspended");
        vm.prank(VERIFIER);
        registry.verifyDoctor(DOCTOR);
        require(token.hasAccess(PATIENT, DOCTOR, r), "reinstated");
    }

    function test_grant_checks_in_the_rust_order() public {
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidGrantee.selector, PATIENT));
        token.grant(PATIENT, T0 + HOUR, 0, bytes32(0), new uint256[](0));
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidExpiry.selector, T0));
        token.grant(DOCTOR, T0, 0, bytes32(0), new uint256[](0));
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidScope.selector, uint8(0)));
        token.grant(DOCTOR, T0 + HOUR, 0, CAT_LAB, new uint256[](0));
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.TooManyRecords.selector, uint256(65)));
        token.grant(DOCTOR, T0 + HOUR, 1, bytes32(0), new uint256[](65));
        // Scope is checked before the registry is asked.
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidScope.selector, uint8(3)));
        token.grant(DOCTOR, T0 + HOUR, 3, bytes32(0), new uint256[](0));
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotPatient.selector, STRANGER));
        token.grant(DOCTOR, T0 + HOUR, 0, bytes32(0), new uint256[](0));
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.DoctorNotVerified.selector, PENDING_DOCTOR));
        token.grant(PENDING_DOCTOR, T0 + HOUR, 0, bytes32(0), new uint256[](0));
        require(token.totalMinted() == 0, "nothing minted");
    }

    function test_expiry_is_exclusive() public {
        uint64 expiry = T0 + 100;
        _addRecord(bytes32(0));
        _grantAll(expiry);
        vm.warp(expiry - 1);
        require(token.hasAccess(PATIENT, DOCTOR, 1), "before expiry");
        vm.warp(expiry);
        require(!token.hasAccess(PATIENT, DOCTOR, 1), "at expiry");
        require(token.ownerOf(1) == DOCTOR, "the token lives on");
    }

    function test_listed_records_are_deduplicated_and_scoped() public {
        for (uint256 i; i < 7; ++i) {
            _addRecord(bytes32(0));
        }
        uint256[] memory ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (5, 5, 6);
        uint256 id = _grant(DOCTOR, T0 + HOUR, 1, bytes32(0), ids);
        uint256[] memory listed = token.grantRecords(id);
        require(listed.length == 2 && listed[0] == 5 && listed[1] == 6, "dedup");
        require(token.hasAccess(PATIENT, DOCTOR, 5) && token.hasAccess(PATIENT, DOCTOR, 6), "listed");
        require(!token.hasAccess(PATIENT, DOCTOR, 7), "unlisted");
    }

    function test_revoke_burns_and_swap_removes() public {
        uint256 a = _grantAll(T0 + HOUR);
        uint256 b = _grantAll(T0 + HOUR);
        uint256 c = _grantAll(T0 + HOUR);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotGrantor.selector, DOCTOR, b));
        token.revoke(b);
        vm.prank(PATIENT);
        token.revoke(b);
        uint256[] memory left = token.tokensOf(PATIENT, DOCTOR);
        require(left.length == 2 && left[0] == a && left[1] == c, "swap-remove");
        vm.startPrank(PATIENT);
        token.revoke(a);
        token.revoke(c);
        vm.stopPrank();
        require(!token.hasAccess(PATIENT, DOCTOR, 1), "revoked");
        require(token.balanceOf(DOCTOR) == 0, "balance");
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.ERC721NonexistentToken.selector, a));
        token.ownerOf(a);
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.ERC721NonexistentToken.selector, a));
        token.revoke(a);
    }

    function test_a_full_pair_prunes_expired_grants_only() public {
        for (uint256 i; i < 7; ++i) {
            _grantAll(T0 + HOUR);
        }
        uint256 live = _grantAll(T0 + 3 * HOUR);
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.TooManyGrants.selector, PATIENT, DOCTOR));
        token.grant(DOCTOR, T0 + HOUR, 0, bytes32(0), new uint256[](0));
        vm.warp(T0 + 2 * HOUR);
        vm.recordLogs();
        uint256 fresh = _grantAll(T0 + 3 * HOUR);
        // Each pruned grant says it ended, so that an indexer drops it.
        Log[] memory logs = vm.getRecordedLogs();
        uint256 ended;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] != IAccessToken.AccessRevoked.selector) continue;
            ++ended;
            require(uint256(logs[i].topics[1]) == ended, "in list order");
            require(address(uint160(uint256(logs[i].topics[2]))) == PATIENT, "patient");
            require(address(uint160(uint256(logs[i].topics[3]))) == DOCTOR, "doctor");
        }
        require(ended == 7, "seven AccessRevoked");
        uint256[] memory left = token.tokensOf(PATIENT, DOCTOR);
        require(fresh == 9 && left.length == 2 && left[0] == live && left[1] == fresh, "pruned");
        require(token.balanceOf(DOCTOR) == 2, "burnt");
    }

    function test_emergency_access_opens_for_the_fixed_window() public {
        _nameCustodian(PATIENT, CUSTODIAN);
        uint256 r = _addRecord(bytes32(0));
        vm.prank(DOCTOR);
        uint64 end = token.openEmergencyAccess(PATIENT, 1);
        require(end == T0 + 4 * HOUR && token.emergencyExpiry(PATIENT, DOCTOR) == end, "window");
        require(token.hasAccess(PATIENT, DOCTOR, r), "open");
        vm.prank(PATIENT);
        token.closeEmergencyAccess(DOCTOR);
        require(!token.hasAccess(PATIENT, DOCTOR, r), "closed");

        // The close barred the doctor on this patient; the patient lifts the bar.
        vm.prank(PATIENT);
        token.liftEmergencyBar(DOCTOR);
        vm.prank(DOCTOR);
        token.openEmergencyAccess(PATIENT, 1);
        vm.warp(end - 1);
        require(token.hasAccess(PATIENT, DOCTOR, r), "still open");
        vm.warp(end);
        require(!token.hasAccess(PATIENT, DOCTOR, r), "over");
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NoEmergencyAccess.selector, PATIENT, DOCTOR));
        token.closeEmergencyAccess(DOCTOR);
        vm.prank(PENDING_DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.DoctorNotVerified.selector, PENDING_DOCTOR));
        token.openEmergencyAccess(PATIENT, 1);
    }

    function test_has_access_never_opens_another_patients_record() public {
        uint256 mine = _addRecord(CAT_LAB);
        address[] memory readers = _addrs(OTHER_PATIENT);
        vm.prank(OTHER_PATIENT);
        uint256 theirs = records.addRecord(hex"01551220aabbccdd", bytes32(uint256(1)), CAT_LAB, readers, _keys(new bytes(80)));
        _grantAll(T0 + HOUR);
        _grant(DOCTOR, T0 + HOUR, 1, bytes32(0), _ids(mine, theirs));
        _grant(DOCTOR, T0 + HOUR, 2, CAT_LAB, new uint256[](0));
        require(token.hasAccess(PATIENT, DOCTOR, mine), "own record");
        require(!token.hasAccess(PATIENT, DOCTOR, theirs), "another patient's record");
        require(!token.hasAccess(PATIENT, DOCTOR, theirs + 1), "no such record");
        require(!token.hasAccess(PATIENT, PATIENT, theirs), "a patient reading another's");
        require(token.hasAccess(OTHER_PATIENT, OTHER_PATIENT, theirs), "its own");
    }

    function test_link_is_once_and_the_registry_owners() public {
        vm.prank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.AlreadyLinked.selector, address(records)));
        token.linkRecordRegistry(STRANGER);
        AccessToken fresh = new AccessToken(address(registry));
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotRegistryOwner.selector, STRANGER));
        fresh.linkRecordRegistry(address(records));
    }

    function test_a_registry_without_code_is_unavailable_not_a_crash() public {
        AccessToken orphan = new AccessToken(STRANGER);
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.RegistryUnavailable.selector, STRANGER));
        orphan.grant(DOCTOR, T0 + HOUR, 0, bytes32(0), new uint256[](0));
        vm.prank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.RegistryUnavailable.selector, STRANGER));
        orphan.linkRecordRegistry(address(records));
        require(!orphan.hasAccess(PATIENT, DOCTOR, 1), "fails closed");
        require(!orphan.hasAccess(PATIENT, PATIENT, 1), "nor self: no RecordRegistry says whose");
        require(orphan.checkAccess(PATIENT, PATIENT, 1, bytes32(0)), "RecordRegistry's own question");
    }

    // ------------------------------------------------------------ RecordRegistry

    function test_records_are_read_only_with_access() public {
        uint256 id = _addRecord(CAT_LAB);
        require(id == 1 && records.recordCount() == 1 && records.versionCount(id) == 1, "added");
        require(records.recordOwner(id) == PATIENT && records.recordCategory(id) == CAT_LAB, "owner");

        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, STRANGER, id));
        records.getRecord(id);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, DOCTOR, id));
        records.getRecord(id);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownRecord.selector, uint256(7)));
        records.getRecord(7);

        vm.prank(PATIENT);
        (address patient, uint32 version, bytes memory cid,, bytes32 category, uint64 ts) = records.getRecord(id);
        require(patient == PATIENT && version == 1 && cid.length == 8 && category == CAT_LAB && ts == T0, "view");

        // A category grant, resolved by AccessToken through recordCategory.
        _grant(DOCTOR, T0 + HOUR, 2, CAT_LAB, new uint256[](0));
        require(token.hasAccess(PATIENT, DOCTOR, id), "category");
        require(records.canRead(DOCTOR, id) && !records.canRead(STRANGER, id), "canRead");
        vm.prank(DOCTOR);
        records.getRecord(id);
        vm.prank(DOCTOR);
        require(records.accessRecord(id) == 1, "accessRecord");
        // The doctor reads only its own wrapped key, and none was published yet.
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, DOCTOR, id));
        records.wrappedKey(id, 1, PATIENT);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoWrappedKey.selector, id, uint32(1), DOCTOR));
        records.wrappedKey(id, 1, DOCTOR);

        address[] memory readers = new address[](1);
        readers[0] = DOCTOR;
        bytes[] memory keys = new bytes[](1);
        keys[0] = hex"beef";
        vm.prank(PATIENT);
        records.wrapKeys(id, 1, readers, keys);
        vm.prank(DOCTOR);
        require(keccak256(records.wrappedKey(id, 1, DOCTOR)) == keccak256(hex"beef"), "wrapped key");

        uint256 xray = _addRecord(CAT_XRAY);
        require(!token.hasAccess(PATIENT, DOCTOR, xray) && !records.canRead(DOCTOR, xray), "other category");
    }

    function test_versions_and_argument_checks() public {
        uint256 id = _addRecord(bytes32(0));
        address[] memory none = new address[](0);
        bytes[] memory noKeys = new bytes[](0);
        vm.prank(PATIENT);
        require(records.addVersion(id, hex"02", bytes32(uint256(2)), none, noKeys) == 2, "version 2");
        vm.prank(PATIENT);
        (, uint32 v, bytes memory cid,,,) = records.getRecordVersion(id, 1);
        require(v == 1 && cid.length == 8, "old version kept");
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownVersion.selector, id, uint32(3)));
        records.getRecordVersion(id, 3);

        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotRecordOwner.selector, DOCTOR, id));
        records.addVersion(id, hex"02", bytes32(uint256(2)), none, noKeys);
        vm.prank(PATIENT);
        vm.expectRevert(IRecordRegistry.InvalidCid.selector);
        records.addRecord(new bytes(129), bytes32(uint256(1)), bytes32(0), none, noKeys);
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.LengthMismatch.selector, uint256(0), uint256(1)));
        records.addRecord(hex"01", bytes32(uint256(1)), bytes32(0), none, new bytes[](1));
        address[] memory one = new address[](1);
        one[0] = PATIENT;
        bytes[] memory longKey = new bytes[](1);
        longKey[0] = new bytes(129);
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.InvalidWrappedKey.selector, PATIENT));
        records.addRecord(hex"01", bytes32(uint256(1)), bytes32(0), one, longKey);
        // Arguments are checked before the registry is asked.
        vm.prank(STRANGER);
        vm.expectRevert(IRecordRegistry.InvalidContentHash.selector);
        records.addRecord(hex"01", bytes32(0), bytes32(0), none, noKeys);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotPatient.selector, STRANGER));
        records.addRecord(hex"01", bytes32(uint256(1)), bytes32(0), none, noKeys);
        uint256[] memory mine = records.recordsOf(PATIENT);
        require(mine.length == 1 && mine[0] == id, "recordsOf");
    }

    function test_listed_grant_and_emergency_open_records() public {
        uint256 first = _addRecord(bytes32(0));
        uint256 second = _addRecord(bytes32(0));
        _grant(DOCTOR, T0 + HOUR, 1, bytes32(0), _ids(first, 99));
        require(records.canRead(DOCTOR, first) && !records.canRead(DOCTOR, second), "listed");
        _nameCustodian(PATIENT, CUSTODIAN);
        vm.prank(DOCTOR);
        token.openEmergencyAccess(PATIENT, 1);
        require(records.canRead(DOCTOR, second), "emergency");
    }

    function test_an_access_token_without_code_denies_reads() public {
        RecordRegistry orphan = new RecordRegistry(address(registry), STRANGER);
        address[] memory none = new address[](0);
        vm.prank(PATIENT);
        uint256 id = orphan.addRecord(hex"01", bytes32(uint256(1)), bytes32(0), none, new bytes[](0));
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, DOCTOR, id));
        orphan.getRecord(id);
        require(!orphan.canRead(DOCTOR, id) && orphan.canRead(PATIENT, id), "fails closed");
    }

    // ------------------------------------------------------------ issue 15: quorum, owner, custodians

    function test_a_quorum_of_two_verifies_and_removed_approvals_drop_out() public {
        require(registry.verificationThreshold() == 1, "default threshold");
        vm.startPrank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidThreshold.selector, uint8(0)));
        registry.setVerificationThreshold(0);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidThreshold.selector, uint8(9)));
        registry.setVerificationThreshold(9);
        registry.setVerificationThreshold(2);
        registry.addVerifier(VERIFIER2);
        registry.addVerifier(VERIFIER3);
        vm.stopPrank();
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.OwnableUnauthorizedAccount.selector, STRANGER));
        registry.setVerificationThreshold(1);
        require(registry.verificationThreshold() == 2, "threshold");

        // One approval is not enough; the same verifier cannot approve twice.
        vm.recordLogs();
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        Log[] memory logs = vm.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == IPatientRegistry.DoctorApproved.selector, "approved only");
        require(keccak256(logs[0].data) == keccak256(abi.encode(uint8(1), uint8(2))), "1 of 2");
        require(!registry.isVerifiedDoctor(PENDING_DOCTOR), "not yet");
        address[] memory approvals = registry.doctorApprovals(PENDING_DOCTOR);
        require(approvals.length == 1 && approvals[0] == VERIFIER, "approvals");
        vm.prank(VERIFIER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.AlreadyApproved.selector, PENDING_DOCTOR, VERIFIER));
        registry.verifyDoctor(PENDING_DOCTOR);

        // The second distinct verifier completes the quorum: DoctorApproved, then DoctorVerified.
        vm.recordLogs();
        vm.prank(VERIFIER2);
        registry.verifyDoctor(PENDING_DOCTOR);
        logs = vm.getRecordedLogs();
        require(logs.length == 2, "two events");
        require(logs[0].topics[0] == IPatientRegistry.DoctorApproved.selector, "approved first");
        require(keccak256(logs[0].data) == keccak256(abi.encode(uint8(2), uint8(2))), "2 of 2");
        require(logs[1].topics[0] == IPatientRegistry.DoctorVerified.selector, "then verified");
        require(logs[1].topics[2] == bytes32(uint256(uint160(VERIFIER2))), "by the completing verifier");
        require(registry.isVerifiedDoctor(PENDING_DOCTOR), "verified");
        require(registry.doctorApprovals(PENDING_DOCTOR).length == 0, "cleared on verification");

        // One verifier suspends; reinstatement needs the quorum again.
        vm.prank(VERIFIER3);
        registry.suspendDoctor(PENDING_DOCTOR);
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        require(registry.doctorStatus(PENDING_DOCTOR) == 3, "still suspended");
        // A removed verifier's approval no longer counts, and is dropped at the next approval.
        vm.prank(OWNER);
        registry.removeVerifier(VERIFIER);
        require(registry.doctorApprovals(PENDING_DOCTOR).length == 0, "filtered view");
        vm.prank(VERIFIER2);
        registry.verifyDoctor(PENDING_DOCTOR);
        require(registry.doctorStatus(PENDING_DOCTOR) == 3, "1 of 2 again");
        vm.prank(OWNER);
        registry.addVerifier(VERIFIER);
        approvals = registry.doctorApprovals(PENDING_DOCTOR);
        require(approvals.length == 1 && approvals[0] == VERIFIER2, "the old approval was pruned from storage");
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        require(registry.isVerifiedDoctor(PENDING_DOCTOR), "reinstated by the quorum");
        // Suspension clears pending approvals.
        vm.prank(VERIFIER);
        registry.suspendDoctor(DOCTOR);
        vm.prank(VERIFIER2);
        registry.verifyDoctor(DOCTOR);
        require(registry.doctorApprovals(DOCTOR).length == 1, "pending");
        vm.prank(VERIFIER3);
        registry.suspendDoctor(PENDING_DOCTOR);
        vm.prank(VERIFIER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.DoctorAlreadySuspended.selector, DOCTOR));
        registry.suspendDoctor(DOCTOR);
    }

    /// Requires `logs` to be DoctorApproved(doctor, verifier, approvals, threshold)
    /// then DoctorVerified(doctor, verifier), and nothing else.
    function _requireApprovedThenVerified(
        Log[] memory logs,
        address doctor,
        address verifier,
        uint8 approvals,
        uint8 threshold
    ) internal pure {
        require(logs.length == 2, "two events");
        require(logs[0].topics[0] == IPatientRegistry.DoctorApproved.selector, "approved first");
        require(logs[0].topics[1] == bytes32(uint256(uint160(doctor))), "approved doctor");
        require(logs[0].topics[2] == bytes32(uint256(uint160(verifier))), "approving verifier");
        require(keccak256(logs[0].data) == keccak256(abi.encode(approvals, threshold)), "approvals of threshold");
        require(logs[1].topics[0] == IPatientRegistry.DoctorVerified.selector, "then verified");
        require(logs[1].topics[1] == bytes32(uint256(uint160(doctor))), "verified doctor");
        require(logs[1].topics[2] == bytes32(uint256(uint160(verifier))), "by the completing verifier");
    }

    function test_a_reappointed_verifier_does_not_bring_back_its_old_approval() public {
        vm.startPrank(OWNER);
        registry.setVerificationThreshold(2);
        registry.addVerifier(VERIFIER2);
        vm.stopPrank();
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.startPrank(OWNER);
        registry.removeVerifier(VERIFIER);
        registry.addVerifier(VERIFIER);
        vm.stopPrank();
        // The approval of its earlier appointment is gone...
        require(registry.doctorApprovals(PENDING_DOCTOR).length == 0, "old approval lapsed");
        // ...so another verifier's fresh approval is one of two, not two.
        vm.recordLogs();
        vm.prank(VERIFIER2);
        registry.verifyDoctor(PENDING_DOCTOR);
        Log[] memory logs = vm.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == IPatientRegistry.DoctorApproved.selector, "approved only");
        require(keccak256(logs[0].data) == keccak256(abi.encode(uint8(1), uint8(2))), "1 of 2");
        require(!registry.isVerifiedDoctor(PENDING_DOCTOR), "not a quorum");
        address[] memory approvals = registry.doctorApprovals(PENDING_DOCTOR);
        require(approvals.length == 1 && approvals[0] == VERIFIER2, "the lapsed approval was pruned");
        // The re-appointed verifier may approve again (no AlreadyApproved) and completes it.
        vm.recordLogs();
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        _requireApprovedThenVerified(vm.getRecordedLogs(), PENDING_DOCTOR, VERIFIER, 2, 2);
        require(registry.isVerifiedDoctor(PENDING_DOCTOR), "verified");
        require(registry.doctorApprovals(PENDING_DOCTOR).length == 0, "cleared");

        // A re-appointment between an approval and its reuse also voids a pending one
        // left in storage, even while the verifier is a verifier again.
        vm.prank(VERIFIER2);
        registry.suspendDoctor(PENDING_DOCTOR);
        vm.prank(VERIFIER2);
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.startPrank(OWNER);
        registry.removeVerifier(VERIFIER2);
        registry.addVerifier(VERIFIER2);
        vm.stopPrank();
        require(registry.doctorApprovals(PENDING_DOCTOR).length == 0, "lapsed in storage too");
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        require(registry.doctorStatus(PENDING_DOCTOR) == 3, "1 of 2: still suspended");
        approvals = registry.doctorApprovals(PENDING_DOCTOR);
        require(approvals.length == 1 && approvals[0] == VERIFIER, "only the fresh approval");
    }

    function test_a_lowered_threshold_lets_an_earlier_approver_complete_the_quorum() public {
        vm.startPrank(OWNER);
        registry.setVerificationThreshold(3);
        registry.addVerifier(VERIFIER2);
        registry.addVerifier(VERIFIER3);
        vm.stopPrank();
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.prank(VERIFIER2);
        registry.verifyDoctor(PENDING_DOCTOR);
        // Below the threshold an earlier approver still gets AlreadyApproved.
        vm.prank(VERIFIER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.AlreadyApproved.selector, PENDING_DOCTOR, VERIFIER));
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.prank(OWNER);
        registry.setVerificationThreshold(2);
        require(!registry.isVerifiedDoctor(PENDING_DOCTOR), "lowering alone verifies nobody");
        // Not stuck: an earlier approver completes the quorum the approvals now meet,
        // without adding itself again (2 of 2).
        vm.recordLogs();
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        _requireApprovedThenVerified(vm.getRecordedLogs(), PENDING_DOCTOR, VERIFIER, 2, 2);
        require(registry.isVerifiedDoctor(PENDING_DOCTOR), "verified");
        require(registry.doctorApprovals(PENDING_DOCTOR).length == 0, "cleared");

        // Exactly met: one approval and a threshold lowered to 1.
        vm.prank(VERIFIER3);
        registry.suspendDoctor(PENDING_DOCTOR);
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.prank(OWNER);
        registry.setVerificationThreshold(1);
        vm.recordLogs();
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        _requireApprovedThenVerified(vm.getRecordedLogs(), PENDING_DOCTOR, VERIFIER, 1, 1);

        // Only approvals that still count meet it: with one of two lapsed (its
        // verifier removed, then re-appointed), the earlier approver is refused.
        vm.prank(VERIFIER3);
        registry.suspendDoctor(PENDING_DOCTOR);
        vm.prank(OWNER);
        registry.setVerificationThreshold(3);
        vm.prank(VERIFIER);
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.prank(VERIFIER2);
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.startPrank(OWNER);
        registry.removeVerifier(VERIFIER2);
        registry.setVerificationThreshold(2);
        vm.stopPrank();
        vm.prank(VERIFIER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.AlreadyApproved.selector, PENDING_DOCTOR, VERIFIER));
        registry.verifyDoctor(PENDING_DOCTOR);
        vm.prank(OWNER);
        registry.addVerifier(VERIFIER2);
        vm.prank(VERIFIER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.AlreadyApproved.selector, PENDING_DOCTOR, VERIFIER));
        registry.verifyDoctor(PENDING_DOCTOR);
        address[] memory approvals = registry.doctorApprovals(PENDING_DOCTOR);
        require(approvals.length == 1 && approvals[0] == VERIFIER, "only the approval that counts");
        // The re-appointed verifier's fresh approval completes it.
        vm.recordLogs();
        vm.prank(VERIFIER2);
        registry.verifyDoctor(PENDING_DOCTOR);
        _requireApprovedThenVerified(vm.getRecordedLogs(), PENDING_DOCTOR, VERIFIER2, 2, 2);
    }

    function test_the_owner_can_never_verify() public {
        vm.startPrank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidVerifier.selector, address(0)));
        registry.addVerifier(address(0));
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.OwnerCannotVerify.selector, OWNER));
        registry.addVerifier(OWNER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.OwnerCannotVerify.selector, VERIFIER));
        registry.transferOwnership(VERIFIER);
        registry.transferOwnership(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.OwnerCannotVerify.selector, STRANGER));
        registry.addVerifier(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.VerifierAlreadyAdded.selector, VERIFIER));
        registry.addVerifier(VERIFIER);
        // Zero cancels the proposal; the old candidate may then be appointed.
        registry.transferOwnership(address(0));
        registry.addVerifier(STRANGER);
        vm.stopPrank();
        vm.prank(VERIFIER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.OwnableUnauthorizedAccount.selector, VERIFIER));
        registry.addVerifier(VERIFIER2);
    }

    function test_emergency_custodians_are_checked_and_listed() public {
        vm.prank(CUSTODIAN);
        registry.registerPatient(bytes32(uint256(0xc1)));
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.NotPatient.selector, DOCTOR));
        registry.setEmergencyCustodians(_addrs(CUSTODIAN));

        address[] memory five = new address[](5);
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.TooManyCustodians.selector, uint256(5)));
        registry.setEmergencyCustodians(five);
        vm.startPrank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidCustodian.selector, address(0)));
        registry.setEmergencyCustodians(_addrs(CUSTODIAN, address(0)));
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidCustodian.selector, PATIENT));
        registry.setEmergencyCustodians(_addrs(PATIENT));
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidCustodian.selector, CUSTODIAN));
        registry.setEmergencyCustodians(_addrs(CUSTODIAN, CUSTODIAN));
        // The whole list's own rules come before the keys: the keyless stranger is not named.
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidCustodian.selector, address(0)));
        registry.setEmergencyCustodians(_addrs(STRANGER, address(0)));
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.InvalidCustodian.selector, STRANGER));
        registry.setEmergencyCustodians(_addrs(CUSTODIAN, STRANGER));
        vm.stopPrank();

        // Allowed while paused; a doctor's key counts as a key.
        vm.prank(OWNER);
        registry.pause();
        vm.recordLogs();
        vm.prank(PATIENT);
        registry.setEmergencyCustodians(_addrs(CUSTODIAN, DOCTOR));
        Log[] memory logs = vm.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == IPatientRegistry.EmergencyCustodiansSet.selector, "event");
        require(keccak256(logs[0].data) == keccak256(abi.encode(_addrs(CUSTODIAN, DOCTOR))), "event list");
        address[] memory listed = registry.emergencyCustodians(PATIENT);
        require(listed.length == 2 && listed[0] == CUSTODIAN && listed[1] == DOCTOR, "listed in order");
        require(registry.isEmergencyCustodian(PATIENT, DOCTOR), "is custodian");
        require(!registry.isEmergencyCustodian(PATIENT, STRANGER), "stranger");
        require(!registry.isEmergencyCustodian(OTHER_PATIENT, CUSTODIAN), "other patient");
        require(!registry.isEmergencyCustodian(PATIENT, address(0)), "zero");
        // Empty turns break-glass off.
        vm.prank(PATIENT);
        registry.setEmergencyCustodians(new address[](0));
        require(registry.emergencyCustodians(PATIENT).length == 0, "cleared");
        require(!registry.isEmergencyCustodian(PATIENT, CUSTODIAN), "gone");
    }

    // ------------------------------------------------------------ issue 15: break-glass rules

    function test_break_glass_needs_a_reason_and_checks_in_the_rust_order() public {
        // The reason comes first, even from a stranger on itself.
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidReason.selector, uint8(0)));
        token.openEmergencyAccess(STRANGER, 0);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidReason.selector, uint8(5)));
        token.openEmergencyAccess(PATIENT, 5);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidGrantee.selector, STRANGER));
        token.openEmergencyAccess(STRANGER, UNCONSCIOUS);
        // The pause comes before the registry's roles.
        vm.prank(OWNER);
        registry.pause();
        vm.prank(STRANGER);
        vm.expectRevert(IAccessToken.EnforcedPause.selector);
        token.openEmergencyAccess(PATIENT, UNCONSCIOUS);
        vm.prank(OWNER);
        registry.unpause();
        vm.prank(PENDING_DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.DoctorNotVerified.selector, PENDING_DOCTOR));
        token.openEmergencyAccess(STRANGER, UNCONSCIOUS);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotPatient.selector, STRANGER));
        token.openEmergencyAccess(STRANGER, UNCONSCIOUS);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NoEmergencyCustodian.selector, PATIENT));
        token.openEmergencyAccess(PATIENT, UNCONSCIOUS);

        _nameCustodian(PATIENT, CUSTODIAN);
        vm.recordLogs();
        vm.prank(DOCTOR);
        uint64 end = token.openEmergencyAccess(PATIENT, OTHER_URGENT);
        Log[] memory logs = vm.getRecordedLogs();
        require(end == T0 + 4 * HOUR, "window");
        require(logs.length == 1 && logs[0].topics[0] == IAccessToken.EmergencyAccess.selector, "event");
        require(keccak256(logs[0].data) == keccak256(abi.encode(end, OTHER_URGENT)), "reason logged");
        require(token.hasEmergencyAccess(PATIENT, DOCTOR), "open");
        require(token.emergencyOpensLastDay(DOCTOR) == 1, "counted");
        // hasEmergencyAccess needs the doctor verified now.
        vm.prank(VERIFIER);
        registry.suspendDoctor(DOCTOR);
        require(!token.hasEmergencyAccess(PATIENT, DOCTOR), "suspended");
        require(token.emergencyExpiry(PATIENT, DOCTOR) == end, "the window stays recorded");
        require(!token.hasEmergencyAccess(address(0), DOCTOR) && !token.hasEmergencyAccess(PATIENT, PATIENT), "edges");
    }

    function test_close_bars_the_doctor_until_lifted_or_30_days() public {
        _nameCustodian(PATIENT, CUSTODIAN);
        _open(DOCTOR, PATIENT);
        vm.warp(T0 + HOUR);
        vm.recordLogs();
        vm.prank(PATIENT);
        token.closeEmergencyAccess(DOCTOR);
        Log[] memory logs = vm.getRecordedLogs();
        uint64 barredUntil = T0 + HOUR + 30 * DAY;
        require(logs.length == 1 && logs[0].topics[0] == IAccessToken.EmergencyAccessClosed.selector, "event");
        require(keccak256(logs[0].data) == keccak256(abi.encode(barredUntil)), "barredUntil logged");
        require(token.emergencyBarredUntil(PATIENT, DOCTOR) == barredUntil, "bar");
        require(token.emergencyExpiry(PATIENT, DOCTOR) == 0 && !token.hasEmergencyAccess(PATIENT, DOCTOR), "closed");
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyBarred.selector, PATIENT, DOCTOR, barredUntil));
        token.openEmergencyAccess(PATIENT, UNCONSCIOUS);
        // The bar is per patient: another patient with a custodian can still be opened.
        _nameCustodian(OTHER_PATIENT, CUSTODIAN);
        _open(DOCTOR, OTHER_PATIENT);

        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotBarred.selector, PATIENT, DOCTOR2));
        token.liftEmergencyBar(DOCTOR2);
        vm.recordLogs();
        vm.prank(PATIENT);
        token.liftEmergencyBar(DOCTOR);
        logs = vm.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == IAccessToken.EmergencyBarLifted.selector, "lift event");
        require(token.emergencyBarredUntil(PATIENT, DOCTOR) == 0, "lifted");
        _open(DOCTOR, PATIENT);

        // A second close bars again; the bar ends by itself (exclusive end).
        vm.prank(PATIENT);
        token.closeEmergencyAccess(DOCTOR);
        barredUntil = T0 + HOUR + 30 * DAY;
        vm.warp(barredUntil - 1);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyBarred.selector, PATIENT, DOCTOR, barredUntil));
        token.openEmergencyAccess(PATIENT, UNCONSCIOUS);
        vm.warp(barredUntil);
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotBarred.selector, PATIENT, DOCTOR));
        token.liftEmergencyBar(DOCTOR);
        _open(DOCTOR, PATIENT);
    }

    function test_a_doctor_opens_at_most_the_daily_limit_across_patients() public {
        address[] memory patients = new address[](10);
        for (uint256 i; i < 10; ++i) {
            patients[i] = address(uint160(0x2000 + i));
            vm.prank(patients[i]);
            registry.registerPatient(bytes32(uint256(0x2000 + i)));
            _nameCustodian(patients[i], CUSTODIAN);
        }
        require(token.emergencyDailyLimit() == 3, "default limit");
        // Three openings within the day, on three patients.
        for (uint256 i; i < 3; ++i) {
            vm.warp(T0 + i * HOUR);
            _open(DOCTOR, patients[i]);
        }
        require(token.emergencyOpensLastDay(DOCTOR) == 3, "three");
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyLimitReached.selector, DOCTOR, uint8(3)));
        token.openEmergencyAccess(patients[3], UNCONSCIOUS);
        // Re-opening a patient already opened counts too.
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyLimitReached.selector, DOCTOR, uint8(3)));
        token.openEmergencyAccess(patients[0], UNCONSCIOUS);
        // The limit is per doctor.
        _registerVerifiedDoctor(DOCTOR2);
        _open(DOCTOR2, patients[3]);

        // The day rolls: the first opening leaves the window at T0 + 24 h exactly.
        vm.warp(T0 + DAY - 1);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyLimitReached.selector, DOCTOR, uint8(3)));
        token.openEmergencyAccess(patients[3], UNCONSCIOUS);
        vm.warp(T0 + DAY);
        require(token.emergencyOpensLastDay(DOCTOR) == 2, "one rolled out");
        _open(DOCTOR, patients[3]);
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyLimitReached.selector, DOCTOR, uint8(3)));
        token.openEmergencyAccess(patients[4], UNCONSCIOUS);
        vm.warp(T0 + DAY + 2 * HOUR);
        _open(DOCTOR, patients[4]);
        _open(DOCTOR, patients[5]);
        // Two days later everything rolled out; the stored list is pruned at each opening.
        vm.warp(T0 + 3 * DAY);
        require(token.emergencyOpensLastDay(DOCTOR) == 0, "all rolled out");
        for (uint256 i = 6; i < 9; ++i) {
            _open(DOCTOR, patients[i]);
        }
        require(_storedOpens(DOCTOR) == 3, "pruned list");
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyLimitReached.selector, DOCTOR, uint8(3)));
        token.openEmergencyAccess(patients[9], UNCONSCIOUS);
        vm.warp(T0 + 5 * DAY);
        _open(DOCTOR, patients[9]);
        require(_storedOpens(DOCTOR) == 1 && token.emergencyOpensLastDay(DOCTOR) == 1, "pruned to one");

        // The PatientRegistry's owner sets the limit: 0..16, 0 turns break-glass off.
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotRegistryOwner.selector, STRANGER));
        token.setEmergencyDailyLimit(5);
        vm.prank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidEmergencyLimit.selector, uint8(17)));
        token.setEmergencyDailyLimit(17);
        vm.recordLogs();
        vm.prank(OWNER);
        token.setEmergencyDailyLimit(0);
        Log[] memory logs = vm.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == IAccessToken.EmergencyLimitSet.selector, "event");
        require(token.emergencyDailyLimit() == 0, "off");
        vm.prank(DOCTOR2);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.EmergencyLimitReached.selector, DOCTOR2, uint8(0)));
        token.openEmergencyAccess(patients[0], UNCONSCIOUS);
        vm.prank(OWNER);
        token.setEmergencyDailyLimit(16);
        _open(DOCTOR2, patients[0]);
    }

    /// The length of the twin's stored list of `doctor`'s openings (AccessToken slot 10: `_opens`).
    function _storedOpens(address doctor) internal view returns (uint256) {
        return uint256(vm.load(address(token), keccak256(abi.encode(doctor, uint256(10)))));
    }

    function test_a_pause_stops_new_grants_and_windows_only() public {
        _nameCustodian(PATIENT, CUSTODIAN);
        _addRecord(bytes32(0));
        uint256 id = _grantAll(T0 + HOUR);
        _open(DOCTOR, PATIENT);
        vm.prank(OWNER);
        registry.pause();
        // Argument checks still come first.
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.InvalidScope.selector, uint8(3)));
        token.grant(DOCTOR, T0 + HOUR, 3, bytes32(0), new uint256[](0));
        vm.prank(STRANGER);
        vm.expectRevert(IAccessToken.EnforcedPause.selector);
        token.grant(DOCTOR, T0 + HOUR, 0, bytes32(0), new uint256[](0));
        vm.prank(PATIENT);
        vm.expectRevert(IAccessToken.EnforcedPause.selector);
        token.grant(DOCTOR, T0 + HOUR, 0, bytes32(0), new uint256[](0));
        vm.prank(DOCTOR);
        vm.expectRevert(IAccessToken.EnforcedPause.selector);
        token.openEmergencyAccess(PATIENT, UNCONSCIOUS);
        // What exists goes on; revocation and closing work.
        require(token.hasAccess(PATIENT, DOCTOR, 1) && token.hasEmergencyAccess(PATIENT, DOCTOR), "reads go on");
        vm.startPrank(PATIENT);
        token.revoke(id);
        token.closeEmergencyAccess(DOCTOR);
        token.liftEmergencyBar(DOCTOR);
        vm.stopPrank();
        vm.prank(OWNER);
        registry.unpause();
        _grantAll(T0 + HOUR);
        _open(DOCTOR, PATIENT);
    }

    // ------------------------------------------------------------ issue 15: custodian release

    function test_a_custodian_releases_keys_only_to_an_open_window() public {
        _nameCustodian(PATIENT, CUSTODIAN);
        vm.prank(CUSTODIAN2);
        registry.registerPatient(bytes32(uint256(0xc2)));
        _registerVerifiedDoctor(DOCTOR2);
        // The patient's client wraps the record key to itself and to its custodian.
        bytes[] memory both = new bytes[](2);
        (both[0], both[1]) = (hex"aa01", hex"cc01");
        vm.prank(PATIENT);
        uint256 id = records.addRecord(
            hex"01551220aabbccdd", bytes32(uint256(0xc0ffee)), bytes32(0), _addrs(PATIENT, CUSTODIAN), both
        );
        // The custodian reads its own key at any time, without access; nobody else's.
        vm.prank(CUSTODIAN);
        require(keccak256(records.wrappedKey(id, 1, CUSTODIAN)) == keccak256(hex"cc01"), "own key");
        require(!records.canRead(CUSTODIAN, id), "no read access");
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, CUSTODIAN, id));
        records.wrappedKey(id, 1, PATIENT);
        vm.prank(CUSTODIAN2);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, CUSTODIAN2, id));
        records.wrappedKey(id, 1, CUSTODIAN2);

        // No window: a custodian cannot wrap, and its rule comes before the key checks.
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoEmergencyAccess.selector, PATIENT, DOCTOR));
        records.wrapKeys(id, 1, _addrs(DOCTOR), new bytes[](0));
        // A stranger (not a custodian of this patient) is not the record's owner.
        vm.prank(CUSTODIAN2);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotRecordOwner.selector, CUSTODIAN2, id));
        records.wrapKeys(id, 1, _addrs(DOCTOR), _keys(hex"dd01"));
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownRecord.selector, uint256(9)));
        records.wrapKeys(9, 1, _addrs(DOCTOR), _keys(hex"dd01"));

        _open(DOCTOR, PATIENT);
        // Every reader needs its own window.
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoEmergencyAccess.selector, PATIENT, DOCTOR2));
        records.wrapKeys(id, 1, _addrs(DOCTOR, DOCTOR2), new bytes[](2));
        // Then the usual checks, in the Rust order.
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.LengthMismatch.selector, uint256(1), uint256(0)));
        records.wrapKeys(id, 1, _addrs(DOCTOR), new bytes[](0));
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownVersion.selector, id, uint32(2)));
        records.wrapKeys(id, 2, _addrs(DOCTOR), _keys(hex"dd01"));

        // The release: EmergencyKeyReleased per reader, then KeyWrapped per reader.
        _open(DOCTOR2, PATIENT);
        bytes[] memory keys = new bytes[](2);
        (keys[0], keys[1]) = (hex"dd01", hex"dd02");
        vm.recordLogs();
        vm.prank(CUSTODIAN);
        records.wrapKeys(id, 1, _addrs(DOCTOR, DOCTOR2), keys);
        Log[] memory logs = vm.getRecordedLogs();
        require(logs.length == 4, "four events");
        for (uint256 i; i < 2; ++i) {
            address doctor = i == 0 ? DOCTOR : DOCTOR2;
            Log memory released = logs[i];
            require(released.topics[0] == IRecordRegistry.EmergencyKeyReleased.selector, "released first");
            require(released.topics[1] == bytes32(id), "record");
            require(released.topics[2] == bytes32(uint256(uint160(PATIENT))), "patient");
            require(released.topics[3] == bytes32(uint256(uint160(doctor))), "doctor");
            require(keccak256(released.data) == keccak256(abi.encode(CUSTODIAN, uint32(1))), "custodian, version");
            Log memory wrapped = logs[2 + i];
            require(wrapped.topics[0] == IRecordRegistry.KeyWrapped.selector, "then wrapped");
            require(wrapped.topics[2] == bytes32(uint256(uint160(doctor))), "reader");
        }
        vm.prank(DOCTOR);
        require(keccak256(records.wrappedKey(id, 1, DOCTOR)) == keccak256(hex"dd01"), "doctor's key");
        vm.prank(DOCTOR);
        records.accessRecord(id);

        // The patient still wraps for anyone, with no EmergencyKeyReleased.
        vm.recordLogs();
        vm.prank(PATIENT);
        records.wrapKeys(id, 1, _addrs(STRANGER), _keys(hex"ee01"));
        logs = vm.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == IRecordRegistry.KeyWrapped.selector, "patient's wrap");

        // A suspension, a close, or the end of the window stops the release.
        vm.prank(VERIFIER);
        registry.suspendDoctor(DOCTOR2);
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoEmergencyAccess.selector, PATIENT, DOCTOR2));
        records.wrapKeys(id, 1, _addrs(DOCTOR2), _keys(hex"dd02"));
        vm.prank(PATIENT);
        token.closeEmergencyAccess(DOCTOR);
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoEmergencyAccess.selector, PATIENT, DOCTOR));
        records.wrapKeys(id, 1, _addrs(DOCTOR), _keys(hex"dd01"));
        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, DOCTOR, id));
        records.wrappedKey(id, 1, DOCTOR);
        // A custodian removed from the list can no longer release, nor read its key.
        vm.prank(PATIENT);
        registry.setEmergencyCustodians(_addrs(CUSTODIAN2));
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AccessDenied.selector, CUSTODIAN, id));
        records.wrappedKey(id, 1, CUSTODIAN);
    }
}
