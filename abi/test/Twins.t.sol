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
    bytes32 internal constant CAT_LAB = bytes32(uint256(0x1a));
    bytes32 internal constant CAT_XRAY = bytes32(uint256(0x2b));
    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant HOUR = 3600;

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
        uint256 id = _grantAll(T0 + HOUR);
        require(id == 1 && token.totalMinted() == 1, "id");
        require(token.ownerOf(id) == DOCTOR && token.balanceOf(DOCTOR) == 1, "owner");
        require(token.locked(id), "locked");
        (address patient, address doctor, uint64 issued, uint64 expires, uint8 kind,) = token.grantInfo(id);
        require(patient == PATIENT && doctor == DOCTOR && issued == T0 && expires == T0 + HOUR && kind == 0, "info");
        require(token.hasAccess(PATIENT, DOCTOR, 42), "granted");
        require(!token.hasAccess(OTHER_PATIENT, DOCTOR, 42), "other patient");
        require(!token.hasAccess(PATIENT, PENDING_DOCTOR, 42), "other doctor");
        require(token.hasAccess(PATIENT, PATIENT, 42), "self");

        vm.prank(DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.TokenLocked.selector, id));
        token.transferFrom(DOCTOR, STRANGER, id);

        // Suspension stops the grant at once; reinstatement restores it.
        vm.prank(VERIFIER);
        registry.suspendDoctor(DOCTOR);
        require(!token.hasAccess(PATIENT, DOCTOR, 42), "suspended");
        vm.prank(VERIFIER);
        registry.verifyDoctor(DOCTOR);
        require(token.hasAccess(PATIENT, DOCTOR, 42), "reinstated");
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
        _grantAll(expiry);
        vm.warp(expiry - 1);
        require(token.hasAccess(PATIENT, DOCTOR, 1), "before expiry");
        vm.warp(expiry);
        require(!token.hasAccess(PATIENT, DOCTOR, 1), "at expiry");
        require(token.ownerOf(1) == DOCTOR, "the token lives on");
    }

    function test_listed_records_are_deduplicated_and_scoped() public {
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
        uint256 fresh = _grantAll(T0 + 3 * HOUR);
        uint256[] memory left = token.tokensOf(PATIENT, DOCTOR);
        require(fresh == 9 && left.length == 2 && left[0] == live && left[1] == fresh, "pruned");
        require(token.balanceOf(DOCTOR) == 2, "burnt");
    }

    function test_emergency_access_opens_for_the_fixed_window() public {
        vm.prank(DOCTOR);
        uint64 end = token.openEmergencyAccess(PATIENT);
        require(end == T0 + 4 * HOUR && token.emergencyExpiry(PATIENT, DOCTOR) == end, "window");
        require(token.hasAccess(PATIENT, DOCTOR, 999), "open");
        vm.prank(PATIENT);
        token.closeEmergencyAccess(DOCTOR);
        require(!token.hasAccess(PATIENT, DOCTOR, 999), "closed");

        vm.prank(DOCTOR);
        token.openEmergencyAccess(PATIENT);
        vm.warp(end - 1);
        require(token.hasAccess(PATIENT, DOCTOR, 999), "still open");
        vm.warp(end);
        require(!token.hasAccess(PATIENT, DOCTOR, 999), "over");
        vm.prank(PATIENT);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NoEmergencyAccess.selector, PATIENT, DOCTOR));
        token.closeEmergencyAccess(DOCTOR);
        vm.prank(PENDING_DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.DoctorNotVerified.selector, PENDING_DOCTOR));
        token.openEmergencyAccess(PATIENT);
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
        require(orphan.hasAccess(PATIENT, PATIENT, 1), "self needs no registry");
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
        vm.prank(DOCTOR);
        token.openEmergencyAccess(PATIENT);
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
}
