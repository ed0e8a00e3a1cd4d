//! How backend failures and bad parameters become JSON-RPC error objects.
//!
//! The codes follow geth, because clients branch on them: cargo-stylus decides
//! "program not activated" from a code-3 error whose message contains "revert"
//! and whose `data` is the raw ArbWasm custom error.

use jsonrpsee::types::ErrorObjectOwned;

use super::backend::BackendError;

/// geth's code for an execution revert carrying return data.
pub const EXECUTION_REVERTED: i32 = 3;
/// geth's generic server error: rejected transactions and halts.
pub const SERVER_ERROR: i32 = -32000;
/// JSON-RPC 2.0: invalid method parameters.
pub const INVALID_PARAMS: i32 = -32602;
/// JSON-RPC 2.0: internal error.
pub const INTERNAL_ERROR: i32 = -32603;

impl From<BackendError> for ErrorObjectOwned {
    fn from(err: BackendError) -> Self {
        let message = err.to_string();
        match err {
            // `data` is the payload as 0x-hex (Bytes serialises that way), also when
            // empty: ethers and alloy decode it as the revert reason.
            BackendError::Revert { data, .. } => {
                ErrorObjectOwned::owned(EXECUTION_REVERTED, message, Some(data))
            }
            BackendError::Halt(_)
            | BackendError::InvalidTransaction(_)
            | BackendError::Timeout(_) => {
                ErrorObjectOwned::owned(SERVER_ERROR, message, None::<()>)
            }
            BackendError::InvalidParams(_) => {
                ErrorObjectOwned::owned(INVALID_PARAMS, message, None::<()>)
            }
            BackendError::Internal(_) => {
                ErrorObjectOwned::owned(INTERNAL_ERROR, message, None::<()>)
            }
        }
    }
}

/// A -32602 error for a parameter the node parsed but cannot use.
pub fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(INVALID_PARAMS, message.into(), None::<()>)
}

/// A -32000 error, geth's code for "the request is fine, the node refuses it".
pub fn server_error(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(SERVER_ERROR, message.into(), None::<()>)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Bytes;

    #[test]
    fn revert_keeps_reason_and_hex_data() {
        let err: ErrorObjectOwned = BackendError::Revert {
            data: Bytes::from_static(&[0x6f, 0x80, 0x9c, 0x4e]),
            reason: Some("ProgramNotActivated()".into()),
        }
        .into();
        assert_eq!(err.code(), 3);
        assert_eq!(err.message(), "execution reverted: ProgramNotActivated()");
        assert_eq!(err.data().unwrap().get(), "\"0x6f809c4e\"");
    }

    #[test]
    fn other_errors_map_to_geth_codes() {
        let code = |e: BackendError| ErrorObjectOwned::from(e).code();
        assert_eq!(code(BackendError::Halt("out of gas".into())), -32000);
        assert_eq!(
            code(BackendError::InvalidTransaction("nonce too low".into())),
            -32000
        );
        assert_eq!(
            code(BackendError::InvalidParams("unknown block".into())),
            -32602
        );
        assert_eq!(code(BackendError::Internal("db".into())), -32603);
        assert_eq!(
            code(BackendError::Timeout(std::time::Duration::from_secs(5))),
            -32000
        );
    }

    #[test]
    fn a_timeout_reads_as_geths() {
        use std::time::Duration;
        let message = |d| BackendError::Timeout(d).to_string();
        assert_eq!(
            message(Duration::from_secs(5)),
            "execution aborted (timeout = 5s)"
        );
        assert_eq!(
            message(Duration::from_millis(1500)),
            "execution aborted (timeout = 1.5s)"
        );
        assert_eq!(
            message(Duration::from_millis(250)),
            "execution aborted (timeout = 250ms)"
        );
        assert_eq!(
            message(Duration::from_secs(90)),
            "execution aborted (timeout = 1m30s)"
        );
        assert_eq!(
            message(Duration::from_secs(3600)),
            "execution aborted (timeout = 1h0m0s)"
        );
    }
}
