// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// The 2-of-3 OwnerMultisig (abi/consumers/) owning the Solidity twins: it takes
// ownership with the two-step transfer and acts as the owner only once two owners
// confirmed. No forge-std offline: the cheatcodes are declared here and failures
// are reverts. tests/e2e/tests/contract_owner.rs runs the same against the Stylus
// contracts on a devnode.

import {OwnerMultisig} from "../consumers/OwnerMultisig.sol";
import {PatientRegistry} from "../twins/PatientRegistry.sol";
import {AccessToken} from "../twins/AccessToken.sol";
import {IPatientRegistry} from "../IPatientRegistry.sol";
import {IAccessToken} from "../IAccessToken.sol";

interface MultisigVm {
    function prank(address) external;
    function expectRevert(bytes calldata) external;
}

contract OwnerMultisigTest {
    MultisigVm internal constant vm = MultisigVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant EOA_OWNER = address(0x10ee);
    address internal constant A = address(0xa1);
    address internal constant B = address(0xb2);
    address internal constant C = address(0xc3);
    address internal constant VERIFIER = address(0x10dd);
    address internal constant STRANGER = address(0x1099);

    PatientRegistry internal registry;
    AccessToken internal token;
    OwnerMultisig internal multisig;

    function setUp() public {
        registry = new PatientRegistry(EOA_OWNER);
        token = new AccessToken(address(registry));
        address[] memory owners = new address[](3);
        (owners[0], owners[1], owners[2]) = (A, B, C);
        multisig = new OwnerMultisig(owners, 2);
        vm.prank(EOA_OWNER);
        registry.transferOwnership(address(multisig));
    }

    /// `by` proposes a call to the registry; returns its id.
    function _propose(address by, address target, bytes memory data) internal returns (uint256 id) {
        vm.prank(by);
        id = multisig.propose(target, data);
    }

    function _executed(uint256 id) internal view returns (bool executed) {
        (,,, executed) = multisig.proposal(id);
    }

    function _takeOwnership() internal {
        uint256 id = _propose(A, address(registry), abi.encodeCall(IPatientRegistry.acceptOwnership, ()));
        vm.prank(B);
        multisig.confirm(id);
    }

    function test_oneConfirmationRunsNothing() public {
        uint256 id = _propose(A, address(registry), abi.encodeCall(IPatientRegistry.acceptOwnership, ()));
        require(!_executed(id), "ran on one confirmation");
        require(registry.owner() == EOA_OWNER, "owner changed on one confirmation");
        require(registry.pendingOwner() == address(multisig), "pending owner");
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.AlreadyConfirmed.selector, id, A));
        multisig.confirm(id);
        vm.prank(EOA_OWNER);
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.NotOwner.selector, EOA_OWNER));
        multisig.confirm(id);
        // A withdrawn confirmation no longer counts.
        vm.prank(A);
        multisig.revoke(id);
        vm.prank(B);
        multisig.confirm(id);
        require(!_executed(id), "ran on one confirmation after a revoke");
        vm.prank(C);
        multisig.confirm(id);
        require(_executed(id), "did not run on two confirmations");
        require(registry.owner() == address(multisig), "not the owner");
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.AlreadyExecuted.selector, id));
        multisig.confirm(id);
    }

    function test_theMultisigActsAsTheOwner() public {
        _takeOwnership();
        require(registry.owner() == address(multisig), "not the owner");

        uint256 id = _propose(B, address(registry), abi.encodeCall(IPatientRegistry.addVerifier, (VERIFIER)));
        require(!registry.isVerifier(VERIFIER), "added on one confirmation");
        vm.prank(C);
        multisig.confirm(id);
        require(registry.isVerifier(VERIFIER), "verifier not added");

        id = _propose(C, address(registry), abi.encodeCall(IPatientRegistry.setVerificationThreshold, (2)));
        vm.prank(A);
        multisig.confirm(id);
        require(registry.verificationThreshold() == 2, "threshold");

        id = _propose(A, address(registry), abi.encodeCall(IPatientRegistry.pause, ()));
        require(!registry.paused(), "paused on one confirmation");
        vm.prank(B);
        multisig.confirm(id);
        require(registry.paused(), "not paused");
        id = _propose(A, address(registry), abi.encodeCall(IPatientRegistry.unpause, ()));
        vm.prank(C);
        multisig.confirm(id);
        require(!registry.paused(), "still paused");

        id = _propose(A, address(token), abi.encodeCall(IAccessToken.setEmergencyDailyLimit, (5)));
        vm.prank(B);
        multisig.confirm(id);
        require(token.emergencyDailyLimit() == 5, "daily limit");

        // The former owner is refused.
        vm.prank(EOA_OWNER);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.OwnableUnauthorizedAccount.selector, EOA_OWNER));
        registry.addVerifier(STRANGER);
        vm.prank(EOA_OWNER);
        vm.expectRevert(abi.encodeWithSelector(IAccessToken.NotRegistryOwner.selector, EOA_OWNER));
        token.setEmergencyDailyLimit(1);
    }

    function test_theMultisigCannotMakeItselfAVerifier() public {
        _takeOwnership();
        uint256 id = _propose(A, address(registry), abi.encodeCall(IPatientRegistry.addVerifier, (address(multisig))));
        // The confirmation that would run it reverts with the registry's error; the proposal stays open.
        vm.prank(B);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.OwnerCannotVerify.selector, address(multisig)));
        multisig.confirm(id);
        require(!_executed(id), "marked run");
        require(!registry.isVerifier(address(multisig)), "the owner is a verifier");
    }

    function test_deploymentRejectsBadOwnersAndThresholds() public {
        address[] memory owners = new address[](2);
        (owners[0], owners[1]) = (A, A);
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.InvalidOwner.selector, A));
        new OwnerMultisig(owners, 1);
        (owners[0], owners[1]) = (A, address(0));
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.InvalidOwner.selector, address(0)));
        new OwnerMultisig(owners, 1);
        (owners[0], owners[1]) = (A, B);
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.InvalidThreshold.selector, 3, 2));
        new OwnerMultisig(owners, 3);
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.InvalidThreshold.selector, 0, 2));
        new OwnerMultisig(owners, 0);
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(OwnerMultisig.InvalidTarget.selector, STRANGER));
        multisig.propose(STRANGER, "");
    }
}
