// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.23;

import {IAccessToken} from "../IAccessToken.sol";

/// A hospital's admission log, as an integrator would build it on CareLedger: a
/// doctor may note an admission against a patient's record only while the
/// patient's AccessToken grants that doctor the record (or an emergency window
/// is open). The note itself is a hash: no health data goes on chain.
contract Hospital {
    /// The CareLedger AccessToken consulted before every action.
    IAccessToken public immutable accessToken;

    /// Admissions noted per patient.
    mapping(address patient => uint256) public admissions;

    /// A doctor noted an admission against a record.
    event AdmissionRecorded(address indexed patient, address indexed doctor, uint256 indexed recordId, bytes32 noteHash);

    /// The caller holds no access to this patient's record.
    error NoAccess(address patient, address doctor, uint256 recordId);

    /// The AccessToken address is zero.
    error InvalidAccessToken();

    constructor(IAccessToken token) {
        if (address(token) == address(0)) revert InvalidAccessToken();
        accessToken = token;
    }

    /// Notes an admission by the caller. Reverts with `NoAccess` unless
    /// `accessToken.hasAccess(patient, msg.sender, recordId)` holds.
    function recordAdmission(address patient, uint256 recordId, bytes32 noteHash) external {
        if (!accessToken.hasAccess(patient, msg.sender, recordId)) {
            revert NoAccess(patient, msg.sender, recordId);
        }
        admissions[patient] += 1;
        emit AdmissionRecorded(patient, msg.sender, recordId, noteHash);
    }
}
