//! Blocking JSON over HTTP for the harness (JSON-RPC, the notifier's endpoints).

use std::time::Duration;

/// `method` `url` with an optional JSON body: (status, JSON answer), or why not.
pub fn request(
    method: &str,
    url: &str,
    body: Option<&serde_json::Value>,
) -> Result<(u16, serde_json::Value), String> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent();
    let sent = match (method, body) {
        ("GET", None) => agent.get(url).call(),
        ("POST", Some(b)) => agent
            .post(url)
            .header("content-type", "application/json")
            .send(b.to_string()),
        ("POST", None) => agent.post(url).send_empty(),
        _ => return Err(format!("{method} with a body is not used here")),
    };
    let mut resp = sent.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("{method} {url}: reading the answer: {e}"))?;
    let json = if text.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text)
            .map_err(|e| format!("{method} {url}: not JSON ({e}): {text}"))?
    };
    Ok((status, json))
}

/// One JSON-RPC call to the node at `url`: the result, or the error object (or
/// what went wrong on the way) as text.
pub fn json_rpc(
    url: &str,
    method: &str,
    params: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (_, answer) = request("POST", url, Some(&body))?;
    match (answer.get("result"), answer.get("error")) {
        (_, Some(err)) => Err(err.to_string()),
        (Some(result), None) => Ok(result.clone()),
        _ => Err(format!("not a JSON-RPC answer: {answer}")),
    }
}
