//! `notify register EMAIL` and `notify remove`: EIP-712 requests, signed with
//! the account's key, to a careledger-notifier's contact directory.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Report;
use alloy::signers::SignerSync;
use alloy::transports::http::reqwest;
use careledger_contact::{domain, RegisterRequest, RemoveRequest};
use serde_json::{json, Value};

/// How long a signed request stays valid: long enough for a slow network,
/// short enough that a captured one is soon useless (it is also single-use).
const REQUEST_TTL_SECS: u64 = 300;

/// Registers `email` (or removes the address when `None`) for the signing account.
pub async fn contact(ctx: &Ctx, notifier: &str, email: Option<&str>) -> Result<Report> {
    let signer = ctx.signer.as_ref().ok_or(Error::NoKey)?;
    let account = signer.address();
    let d = ctx.deployment().await?;
    let base = notifier.trim_end_matches('/');
    if reqwest::Url::parse(base).is_err() {
        return Err(Error::Usage(format!(
            "--notifier {notifier:?} is not a URL"
        )));
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Usage(format!("HTTP client: {e}")))?;
    let unreachable = |e: reqwest::Error| Error::Unreachable {
        url: base.to_string(),
        reason: e.without_url().to_string(),
    };
    let (_, nonce_answer) = read_answer(
        client
            .get(format!("{base}/v1/contacts/{account}/nonce"))
            .send()
            .await
            .map_err(unreachable)?,
    )
    .await?;
    let nonce = nonce_answer["nextNonce"].as_u64().ok_or_else(|| {
        Error::Usage(format!("{base} does not answer like a careledger-notifier"))
    })?;
    let expiry = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_secs())
        .unwrap_or(0)
        + REQUEST_TTL_SECS;
    let domain = domain(d.chain_id, d.patient_registry);
    let (path, body) = match email {
        Some(email) => {
            let hash = RegisterRequest::signing_hash(account, email, nonce, expiry, &domain);
            let signature = sign(signer, hash)?;
            let req = RegisterRequest {
                account,
                email: email.into(),
                nonce,
                expiry,
                signature,
            };
            ("v1/contacts", serde_json::to_value(req))
        }
        None => {
            let hash = RemoveRequest::signing_hash(account, nonce, expiry, &domain);
            let signature = sign(signer, hash)?;
            let req = RemoveRequest {
                account,
                nonce,
                expiry,
                signature,
            };
            ("v1/contacts/remove", serde_json::to_value(req))
        }
    };
    let body = body.expect("plain data serialises");
    let (status, answer) = read_answer(
        client
            .post(format!("{base}/{path}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(unreachable)?,
    )
    .await?;
    if status != 200 {
        let reason = answer["error"].as_str().unwrap_or("no reason given");
        return Err(Error::Usage(format!(
            "the notifier refused the request (HTTP {status}): {reason}"
        )));
    }
    Ok(match email {
        Some(_) => Report::new(json!({"account": account, "registered": true, "notifier": base}))
            .line(format!(
                "{base} will email {account}'s notices to the address given"
            )),
        None => Report::new(json!({"account": account, "registered": false, "notifier": base}))
            .line(format!("{base} will no longer email {account}")),
    })
}

fn sign(
    signer: &alloy::signers::local::PrivateKeySigner,
    hash: alloy::primitives::B256,
) -> Result<alloy::primitives::Bytes> {
    let sig = signer
        .sign_hash_sync(&hash)
        .map_err(|e| Error::Usage(format!("signing: {e}")))?;
    Ok(sig.as_bytes().to_vec().into())
}

async fn read_answer(response: reqwest::Response) -> Result<(u16, Value)> {
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| Error::Rpc(e.without_url().to_string()))?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}
