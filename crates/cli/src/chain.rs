//! Talking to the chain: transactions and calls that report reverts by their
//! custom error, and event scans. (Arguments are parsed in `cli.rs`.)

use crate::abi::{ArbWasm, IAccessToken, IPatientRegistry, IRecordRegistry, StylusDeployer};
use crate::error::{Error, Result};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, PendingTransactionError, Provider};
use alloy::rpc::types::{Filter, TransactionReceipt, TransactionRequest};
use alloy::sol_types::SolInterface;
use alloy::transports::{RpcError, TransportErrorKind};
use careledger_vault::ReaderKeypair;

/// The revert data in an error, decoded to the contracts' custom error in words.
pub fn describe_revert(data: &[u8]) -> String {
    use IAccessToken::IAccessTokenErrors as A;
    use IPatientRegistry::IPatientRegistryErrors as P;
    use IRecordRegistry::IRecordRegistryErrors as R;
    if let Ok(e) = R::abi_decode(data) {
        return match e {
            R::AccessDenied(e) => format!(
                "access denied: {} may not read record {} (no grant, or it was revoked or has expired)",
                e._0, e._1
            ),
            R::UnknownRecord(e) => format!("there is no record {}", e.0),
            R::NotPatient(e) => format!("{} is not a registered patient", e.0),
            R::NotRecordOwner(e) => format!(
                "{} does not own record {} and is not an emergency custodian of its patient",
                e._0, e._1
            ),
            R::NoEmergencyAccess(e) => format!(
                "{} holds no open emergency window on {} (or is not verified now): a custodian may release keys only inside one",
                e._1, e._0
            ),
            other => format!("reverted: {other:?}"),
        };
    }
    if let Ok(e) = A::abi_decode(data) {
        return match e {
            A::DoctorNotVerified(e) => format!("{} is not a verified doctor", e.0),
            A::NotPatient(e) => format!("{} is not a registered patient", e.0),
            A::InvalidExpiry(e) => format!("expiry {} is not in the future", e.0),
            A::ERC721NonexistentToken(e) => {
                format!(
                    "there is no grant token {} (never minted, or already revoked)",
                    e.0
                )
            }
            A::NotGrantor(e) => format!("{} did not grant token {}", e._0, e._1),
            A::TooManyGrants(e) => format!(
                "{} already holds the maximum number of live grants from {}",
                e._1, e._0
            ),
            A::NoEmergencyAccess(e) => {
                format!("{} has no open emergency access to {}", e._1, e._0)
            }
            A::InvalidReason(e) => format!("{} is not an emergency reason code (1 to 4)", e.0),
            A::NoEmergencyCustodian(e) => format!(
                "{} named no emergency custodian: break-glass is off for this patient",
                e.0
            ),
            A::EmergencyBarred(e) => format!(
                "{} barred {} from emergency access until {} (it closed an earlier window)",
                e._0,
                e._1,
                time(e._2)
            ),
            A::EmergencyLimitReached(e) => format!(
                "{} opened {} emergency window(s) in the last 24 hours, the most allowed",
                e._0, e._1
            ),
            A::NotBarred(e) => format!("{} has no bar on {}", e._0, e._1),
            A::InvalidEmergencyLimit(e) => {
                format!("{} is above the highest daily limit (16)", e.0)
            }
            A::EnforcedPause(_) => {
                "CareLedger is paused: no new grants or emergency windows".into()
            }
            A::NotRegistryOwner(e) => format!("{} is not the owner of the registry", e.0),
            other => format!("reverted: {other:?}"),
        };
    }
    if let Ok(e) = P::abi_decode(data) {
        return match e {
            P::AlreadyRegistered(e) => format!("{} is already registered", e.0),
            P::NotRegistered(e) => format!("{} is not registered", e.0),
            P::NotVerifier(e) => format!("{} is not an accredited verifier", e.0),
            P::UnknownDoctor(e) => format!("{} is not a registered doctor", e.0),
            P::DoctorAlreadyVerified(e) => format!("{} is already verified", e.0),
            P::DoctorAlreadySuspended(e) => format!("{} is already suspended", e.0),
            P::OwnableUnauthorizedAccount(e) => {
                format!("{} is not the owner of the registry", e.0)
            }
            P::EnforcedPause(_) => "registrations are paused".into(),
            P::AlreadyApproved(e) => format!("{} already approved {}", e._1, e._0),
            P::OwnerCannotVerify(e) => format!(
                "{} owns (or is proposed to own) the registry, or is a verifier: one account cannot do both",
                e.0
            ),
            P::InvalidThreshold(e) => format!("{} is not a verification threshold (1 to 8)", e.0),
            P::NotPatient(e) => format!("{} is not a registered patient", e.0),
            P::InvalidCustodian(e) => format!(
                "{} cannot be an emergency custodian (zero, yourself, listed twice, or no registered key)",
                e.0
            ),
            P::TooManyCustodians(e) => format!("{} custodians: at most 4", e.0),
            other => format!("reverted: {other:?}"),
        };
    }
    if let Ok(e) = ArbWasm::ArbWasmErrors::abi_decode(data) {
        return format!("activation failed: {e:?}");
    }
    if let Ok(e) = StylusDeployer::StylusDeployerErrors::abi_decode(data) {
        return format!("deployment failed: {e:?}");
    }
    if data.is_empty() {
        return "reverted without a reason".into();
    }
    format!("reverted with unknown data 0x{}", alloy::hex::encode(data))
}

/// An RPC failure in words: a decoded revert, an unreachable node, or the node's message.
pub fn rpc_error(url: &str, e: RpcError<TransportErrorKind>) -> Error {
    if let Some(data) = e.as_error_resp().and_then(|p| p.as_revert_data()) {
        return Error::Reverted(describe_revert(&data));
    }
    if let Some(resp) = e.as_error_resp() {
        if resp.message.contains("revert") {
            return Error::Reverted(describe_revert(&[]));
        }
        return Error::Rpc(one_line(&resp.message));
    }
    match e {
        // alloy's message for these quotes the whole answer: binary, or many lines.
        RpcError::DeserError { err, text } => Error::Rpc(format!(
            "the node at {url} answered something that is not a JSON-RPC response \
             ({}): {}",
            one_line(&err.to_string()),
            crate::error::summary(&text)
        )),
        RpcError::Transport(TransportErrorKind::HttpError(h)) => Error::Unreachable {
            what: NODE,
            url: url.to_string(),
            reason: format!(
                "HTTP status {}, {}",
                h.status,
                crate::error::summary(&h.body)
            ),
        },
        RpcError::Transport(kind) if timed_out(&kind) => Error::Unreachable {
            what: NODE,
            url: url.to_string(),
            reason: NO_ANSWER.into(),
        },
        RpcError::Transport(kind) => Error::Unreachable {
            what: NODE,
            url: url.to_string(),
            reason: one_line(&kind.to_string()),
        },
        other => Error::Rpc(one_line(&other.to_string())),
    }
}

/// The chain's node, as [`Error::Unreachable`] names it.
const NODE: &str = "the node";

/// Why a node that accepted the connection (or never let it finish) is given up on.
pub const NO_ANSWER: &str =
    "no answer within the time allowed (--timeout or CARELEDGER_TIMEOUT; raise it if the node is only slow)";

/// Whether an error, or one it was caused by, is an HTTP client's timeout.
pub fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.downcast_ref::<alloy::transports::http::reqwest::Error>()
            .is_some_and(|r| r.is_timeout())
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A contract-binding failure in words.
pub fn call_error(url: &str, e: alloy::contract::Error) -> Error {
    if let Some(data) = e.as_revert_data() {
        return Error::Reverted(describe_revert(&data));
    }
    match e {
        alloy::contract::Error::TransportError(e) => rpc_error(url, e),
        other => Error::Rpc(one_line(&other.to_string())),
    }
}

/// A transport's or node's message as one short printable line: it may quote
/// what the node answered, which can be anything.
fn one_line(s: &str) -> String {
    crate::error::printable(s)
}

/// How long a sent transaction may take to be mined. Not `--timeout`: that is
/// how long the node may stay silent (each look for the receipt is held to it),
/// this is the chain's pace, a second or less on Arbitrum.
const RECEIPT_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Sends `tx` from the provider's wallet and waits for a successful receipt.
pub async fn send(
    provider: &DynProvider,
    url: &str,
    to: Address,
    data: Bytes,
    value: U256,
) -> Result<TransactionReceipt> {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(data)
        .with_value(value);
    let pending = provider
        .send_transaction(tx)
        .await
        .map_err(|e| rpc_error(url, e))?;
    let hash = *pending.tx_hash();
    let receipt = pending
        .with_timeout(Some(RECEIPT_WAIT))
        .get_receipt()
        .await
        .map_err(|e| match e {
            PendingTransactionError::TransportError(e) => rpc_error(url, e),
            PendingTransactionError::TxWatcher(_) => Error::Rpc(format!(
                "transaction {hash} was sent but not mined within {} s: it may still be, \
                 so look it up before sending it again",
                RECEIPT_WAIT.as_secs()
            )),
            other => Error::Rpc(one_line(&other.to_string())),
        })?;
    if !receipt.status() {
        return Err(Error::TxFailed(receipt.transaction_hash.to_string()));
    }
    Ok(receipt)
}

/// The first `E` a transaction emitted.
pub fn event<E: alloy::sol_types::SolEvent>(receipt: &TransactionReceipt) -> Result<E> {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| E::decode_log(&l.inner).ok().map(|l| l.data))
        .ok_or_else(|| Error::Rpc(format!("the transaction emitted no {}", E::SIGNATURE)))
}

/// Blocks asked for in one `eth_getLogs`: public RPC providers cap the range
/// (and the result size), so long histories are read in windows.
const LOG_WINDOW: u64 = 10_000;

/// Every log of `addresses` from `from_block` to `to_block` (default: the head),
/// oldest first. A window the node refuses is halved and asked again.
pub async fn logs(
    provider: &DynProvider,
    url: &str,
    addresses: Vec<Address>,
    from_block: u64,
    to_block: Option<u64>,
) -> Result<Vec<alloy::rpc::types::Log>> {
    let to = match to_block {
        Some(to) => to,
        None => provider
            .get_block_number()
            .await
            .map_err(|e| rpc_error(url, e))?,
    };
    let mut out = Vec::new();
    let (mut start, mut window) = (from_block, LOG_WINDOW);
    while start <= to {
        let end = to.min(start.saturating_add(window - 1));
        let filter = Filter::new()
            .address(addresses.clone())
            .from_block(start)
            .to_block(end);
        match provider.get_logs(&filter).await {
            Ok(mut logs) => {
                out.append(&mut logs);
                // A head the node gives as u64::MAX ends the scan, not the program.
                let Some(next) = end.checked_add(1) else {
                    break;
                };
                start = next;
            }
            // The node answered, but not for this range: ask for less.
            Err(e) if window > 1 && e.as_error_resp().is_some() => window /= 2,
            Err(e) => return Err(rpc_error(url, e)),
        }
    }
    Ok(out)
}

/// How the patient's own client shows a category code: `-` for none, the name
/// when it is one of the names the client knows, else `private`.
pub fn category_label(reader: Option<&ReaderKeypair>, code: B256) -> String {
    if code.is_zero() {
        return "-".into();
    }
    reader
        .and_then(|r| careledger_vault::category_name(r, &code.0, []))
        .unwrap_or_else(|| "private".into())
}

/// Unix seconds as an RFC 3339 UTC time; any u64 prints.
pub use crate::output::time;

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::keccak256;

    #[test]
    fn categories_read_as_their_names_for_the_patient_only() {
        let key = ReaderKeypair::derive(b"a patient, 32 bytes or more.....");
        let lab = B256::from(careledger_vault::category_code(&key, "lab"));
        assert_ne!(lab, keccak256("lab"));
        assert_eq!(category_label(Some(&key), lab), "lab");
        assert_eq!(category_label(None, lab), "private");
        assert_eq!(category_label(Some(&key), keccak256("lab")), "private");
        assert_eq!(category_label(Some(&key), B256::ZERO), "-");
    }

    #[test]
    fn reverts_read_as_sentences() {
        let data = IRecordRegistry::AccessDenied {
            _0: Address::repeat_byte(1),
            _1: U256::from(7),
        };
        let text = describe_revert(&alloy::sol_types::SolError::abi_encode(&data));
        assert!(text.starts_with("access denied"), "{text}");
        assert!(text.contains("record 7"));
        assert_eq!(describe_revert(&[]), "reverted without a reason");
    }
}
