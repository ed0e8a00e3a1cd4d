// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.23;

/// A k-of-n multisig to own CareLedger's PatientRegistry (and so the owner's
/// powers over AccessToken and RecordRegistry, which ask the registry who owns it).
///
/// Any one of `n` owners proposes a call (target, calldata); the others confirm;
/// the call runs in the transaction of the `k`-th confirmation, with this contract
/// as `msg.sender`. No ether moves: the call carries no value.
///
/// Taking ownership is the registry's two-step transfer: the current owner calls
/// `transferOwnership(multisig)`, then the multisig runs a proposal of
/// `acceptOwnership()`. From then on every owner action (`addVerifier`,
/// `setVerificationThreshold`, `pause`, `unpause`, AccessToken's
/// `setEmergencyDailyLimit`, ...) is a proposal that `k` owners confirmed.
///
/// If the call reverts, the confirmation that would have run it reverts too, with
/// the call's own revert data (e.g. the registry's `OwnerCannotVerify`): the
/// proposal stays open, and an owner who has not confirmed yet may try again later.
///
/// The owners and `k` are fixed at deployment. To change them, deploy a new
/// multisig and hand ownership over to it with the same two steps (proposed here).
contract OwnerMultisig {
    /// One proposed call.
    struct Proposal {
        address target;
        bytes data;
        uint8 confirmations;
        bool executed;
    }

    /// The owners, in the order given at deployment.
    address[] private _owners;

    /// Whether an account is one of the owners.
    mapping(address account => bool) public isOwner;

    /// Confirmations needed to run a proposal (k).
    uint8 public immutable threshold;

    /// Proposals so far; a proposal's id is its index.
    Proposal[] private _proposals;

    /// Whether an owner confirmed a proposal.
    mapping(uint256 id => mapping(address owner => bool)) public confirmed;

    /// An owner proposed a call (and confirmed it).
    event Proposed(uint256 indexed id, address indexed proposer, address indexed target, bytes data);

    /// An owner confirmed a proposal: `confirmations` of `threshold` so far.
    event Confirmed(uint256 indexed id, address indexed owner, uint8 confirmations);

    /// An owner withdrew its confirmation of a proposal not yet run.
    event Revoked(uint256 indexed id, address indexed owner, uint8 confirmations);

    /// A proposal's call ran and succeeded.
    event Executed(uint256 indexed id, address indexed target, bytes result);

    /// The caller is not one of the owners.
    error NotOwner(address account);

    /// An owner at deployment is zero or listed twice.
    error InvalidOwner(address account);

    /// `k` is zero, or more than the owners, or there are more than 255 owners.
    error InvalidThreshold(uint256 threshold, uint256 owners);

    /// A call to no contract: the zero address, or one without code.
    error InvalidTarget(address target);

    /// No proposal has this id.
    error UnknownProposal(uint256 id);

    /// The proposal's call already ran.
    error AlreadyExecuted(uint256 id);

    /// The owner already confirmed this proposal.
    error AlreadyConfirmed(uint256 id, address owner);

    /// The owner has no confirmation of this proposal to withdraw.
    error NotConfirmed(uint256 id, address owner);

    modifier onlyOwner() {
        if (!isOwner[msg.sender]) revert NotOwner(msg.sender);
        _;
    }

    modifier pending(uint256 id) {
        if (id >= _proposals.length) revert UnknownProposal(id);
        if (_proposals[id].executed) revert AlreadyExecuted(id);
        _;
    }

    constructor(address[] memory owners_, uint8 threshold_) {
        if (owners_.length > type(uint8).max || threshold_ == 0 || threshold_ > owners_.length) {
            revert InvalidThreshold(threshold_, owners_.length);
        }
        for (uint256 i = 0; i < owners_.length; i++) {
            address o = owners_[i];
            if (o == address(0) || isOwner[o]) revert InvalidOwner(o);
            isOwner[o] = true;
            _owners.push(o);
        }
        threshold = threshold_;
    }

    /// Proposes `target.call(data)` and confirms it as the caller; runs it at once
    /// if one confirmation is enough. Returns the proposal's id.
    function propose(address target, bytes calldata data) external onlyOwner returns (uint256 id) {
        if (target.code.length == 0) revert InvalidTarget(target);
        id = _proposals.length;
        _proposals.push(Proposal({target: target, data: data, confirmations: 0, executed: false}));
        emit Proposed(id, msg.sender, target, data);
        _confirm(id);
    }

    /// Confirms proposal `id` as the caller; the `threshold`-th confirmation runs it.
    function confirm(uint256 id) external onlyOwner pending(id) {
        _confirm(id);
    }

    /// Withdraws the caller's confirmation of proposal `id`, not yet run.
    function revoke(uint256 id) external onlyOwner pending(id) {
        if (!confirmed[id][msg.sender]) revert NotConfirmed(id, msg.sender);
        confirmed[id][msg.sender] = false;
        Proposal storage p = _proposals[id];
        p.confirmations -= 1;
        emit Revoked(id, msg.sender, p.confirmations);
    }

    /// The owners.
    function owners() external view returns (address[] memory) {
        return _owners;
    }

    /// How many proposals there are (the next proposal's id).
    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    /// Proposal `id`: its call, its confirmations so far, and whether it ran.
    function proposal(uint256 id)
        external
        view
        returns (address target, bytes memory data, uint8 confirmations, bool executed)
    {
        if (id >= _proposals.length) revert UnknownProposal(id);
        Proposal storage p = _proposals[id];
        return (p.target, p.data, p.confirmations, p.executed);
    }

    function _confirm(uint256 id) private {
        if (confirmed[id][msg.sender]) revert AlreadyConfirmed(id, msg.sender);
        confirmed[id][msg.sender] = true;
        Proposal storage p = _proposals[id];
        p.confirmations += 1;
        emit Confirmed(id, msg.sender, p.confirmations);
        if (p.confirmations >= threshold) _execute(id, p);
    }

    /// Runs the call; on a revert, reverts with the call's revert data. Marked run
    /// before the call, so that the target cannot have it run twice.
    function _execute(uint256 id, Proposal storage p) private {
        p.executed = true;
        (bool ok, bytes memory result) = p.target.call(p.data);
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
        emit Executed(id, p.target, result);
    }
}
