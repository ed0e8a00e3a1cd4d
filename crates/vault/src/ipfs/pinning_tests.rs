//! The client against a small pinning service run in the test: the spec's
//! subset (add, get, list, remove), bearer auth, a pin that goes queued →
//! pinning → pinned, one that fails, one that never moves, and bad answers.

use super::*;
use crate::ipfs::testserver::{Answer, Request, Server};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "s3cret-token";
const HELLO: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

#[derive(Default)]
struct Service {
    pins: HashMap<String, (PinStatus, u32)>,
    next: u32,
}

fn failure(status: u16, reason: &str, details: &str) -> Answer {
    let body = json!({"error": {"reason": reason, "details": details}});
    (status, "application/json", body.to_string().into_bytes())
}

fn ok(status: u16, body: serde_json::Value) -> Answer {
    (status, "application/json", body.to_string().into_bytes())
}

/// One poll moves a pin one step: queued, pinning, pinned. Names steer the
/// odd cases: "doomed" fails, "stuck" never leaves the queue.
fn handle(service: &Mutex<Service>, req: &Request) -> Answer {
    if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return failure(401, "UNAUTHORIZED", "Access token is missing or invalid");
    }
    let mut s = service.lock().unwrap();
    let id = req.path.strip_prefix("/psa/pins/");
    match (req.method.as_str(), id) {
        ("POST", None) if req.path == "/psa/pins" => {
            let Ok(pin) = serde_json::from_slice::<Pin>(&req.body) else {
                return failure(400, "BAD_REQUEST", "not a Pin object");
            };
            if pin.name.as_deref() == Some("broke") {
                return failure(
                    409,
                    "INSUFFICIENT_FUNDS",
                    "Unable to process request due to the lack of funds",
                );
            }
            s.next += 1;
            let status = PinStatus {
                requestid: format!("req/{}", s.next),
                status: Status::Queued,
                created: format!("2026-11-25T09:00:{:02}Z", s.next),
                pin,
                delegates: vec!["/ip4/127.0.0.1/tcp/4001/p2p/QmServicePeer".into()],
                info: BTreeMap::new(),
            };
            s.pins.insert(status.requestid.clone(), (status.clone(), 0));
            ok(202, serde_json::to_value(status).unwrap())
        }
        ("GET", Some("garbage")) => (200, "application/json", br#"{"requestid": 5"#.to_vec()),
        ("GET", Some(id)) => {
            let id = id.replace("%2F", "/");
            let Some((status, polls)) = s.pins.get_mut(&id) else {
                return failure(404, "NOT_FOUND", "The specified resource was not found");
            };
            *polls += 1;
            status.status = match (status.pin.name.as_deref(), *polls) {
                (Some("stuck"), _) => Status::Queued,
                (Some("doomed"), _) => {
                    status
                        .info
                        .insert("status_details".into(), "DAG too big\nfor plan".into());
                    Status::Failed
                }
                (_, 1) => Status::Queued,
                (_, 2) => Status::Pinning,
                _ => Status::Pinned,
            };
            ok(200, serde_json::to_value(&*status).unwrap())
        }
        ("GET", None) => {
            let cids: Vec<&str> = req
                .query("cid")
                .map(|c| c.split(',').collect())
                .unwrap_or_default();
            let statuses: Vec<&str> = req
                .query("status")
                .map_or(vec!["pinned"], |s| s.split(',').collect());
            let mut results: Vec<&PinStatus> = s
                .pins
                .values()
                .map(|(p, _)| p)
                .filter(|p| cids.is_empty() || cids.contains(&p.pin.cid.as_str()))
                .filter(|p| statuses.contains(&p.status.as_str()))
                .collect();
            results.sort_by(|a, b| b.created.cmp(&a.created));
            ok(200, json!({"count": results.len(), "results": results}))
        }
        ("DELETE", Some(id)) => match s.pins.remove(&id.replace("%2F", "/")) {
            Some(_) => (202, "text/plain", Vec::new()),
            None => failure(404, "NOT_FOUND", "The specified resource was not found"),
        },
        _ => failure(400, "BAD_REQUEST", "unsupported"),
    }
}

fn service() -> (Server, PinningClient) {
    let state = Arc::new(Mutex::new(Service::default()));
    let server = Server::start(move |req| handle(&state, req));
    let client = PinningClient::new(&format!("{}/psa/", server.url), TOKEN).unwrap();
    (server, client)
}

fn hello() -> Cid {
    HELLO.parse().unwrap()
}

#[test]
fn a_pin_goes_queued_then_pinned_and_can_be_listed_and_removed() {
    let (_server, client) = service();
    let origins = vec!["/ip4/127.0.0.1/tcp/4001/p2p/QmOurPeer".to_string()];
    let added = client
        .add_pin(&hello(), Some("record-1"), &origins)
        .unwrap();
    assert_eq!(added.status, Status::Queued);
    assert_eq!(added.pin.origins, origins);
    assert_eq!(added.requestid, "req/1");
    assert!(!added.delegates.is_empty());

    assert!(
        client.list(&[hello()], &[]).unwrap().results.is_empty(),
        "not pinned yet"
    );
    let pinned = client
        .wait_pinned(&added.requestid, Duration::from_secs(10))
        .unwrap();
    assert_eq!(pinned.status, Status::Pinned);

    let listed = client.list(&[hello()], &[]).unwrap();
    assert_eq!((listed.count, listed.results.len()), (1, 1));
    assert_eq!(listed.results[0].requestid, added.requestid);
    let queued = client
        .list(&[], &[Status::Queued, Status::Pinning])
        .unwrap();
    assert_eq!(queued.count, 0);

    client.remove(&added.requestid).unwrap();
    let gone = client.get(&added.requestid).unwrap_err();
    assert!(matches!(gone, Error::PinNotFound(_)), "{gone}");
    assert_eq!(
        gone.to_string(),
        "pinning service has no pin request \"req/1\" (NOT_FOUND: The specified resource was not found)"
    );
}

#[test]
fn a_wrong_token_is_refused_with_the_services_reason() {
    let (server, _) = service();
    let client = PinningClient::new(&format!("{}/psa", server.url), "wrong").unwrap();
    let err = client.add_pin(&hello(), None, &[]).unwrap_err();
    assert!(matches!(err, Error::PinUnauthorized(_)));
    assert_eq!(
        err.to_string(),
        "pinning service refused the access token: POST /pins: UNAUTHORIZED: Access token is missing or invalid"
    );
    assert!(
        !format!("{client:?}").contains("wrong"),
        "the token stays out of Debug"
    );
    assert!(PinningClient::new(&server.url, "").is_err());
}

#[test]
fn failures_and_stalls_end_the_wait_with_one_line_errors() {
    let (_server, client) = service();
    let doomed = client.add_pin(&hello(), Some("doomed"), &[]).unwrap();
    let err = client
        .wait_pinned(&doomed.requestid, Duration::from_secs(10))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("pinning service: pin request req/1 for {HELLO} failed: DAG too big for plan")
    );

    let stuck = client.add_pin(&hello(), Some("stuck"), &[]).unwrap();
    let started = Instant::now();
    let err = client
        .wait_pinned(&stuck.requestid, Duration::from_millis(700))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        err.to_string().ends_with("still queued after 700ms"),
        "{err}"
    );

    let err = client.add_pin(&hello(), Some("broke"), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pinning service: POST /pins: HTTP 409: INSUFFICIENT_FUNDS: Unable to process request due to the lack of funds"
    );
    assert!(client.list(&[hello(); 11], &[]).is_err());
}

#[test]
fn malformed_answers_and_dead_services_are_errors_not_panics() {
    let (_server, client) = service();
    let err = client.get("garbage").unwrap_err();
    assert!(matches!(err, Error::Pinning(_)));
    let msg = err.to_string();
    assert!(
        msg.starts_with("pinning service: GET /pins/garbage: malformed answer ("),
        "{msg}"
    );
    assert!(!msg.contains('\n'));

    let html = Server::start(|_| {
        (
            502,
            "text/html",
            b"<html>\n<b>Bad gateway</b>\n</html>".to_vec(),
        )
    });
    let client = PinningClient::new(&html.url, TOKEN).unwrap();
    let err = client.list(&[], &[]).unwrap_err().to_string();
    assert_eq!(
        err,
        "pinning service: GET /pins: HTTP 502: <html> <b>Bad gateway</b> </html>"
    );

    let lying = Server::start(|_| {
        let body = json!({"requestid": "x", "status": "queued", "created": "2026-11-25T09:00:00Z",
                          "pin": {"cid": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
                          "delegates": []});
        (202, "application/json", body.to_string().into_bytes())
    });
    let client = PinningClient::new(&lying.url, TOKEN).unwrap();
    let err = client.add_pin(&hello(), None, &[]).unwrap_err().to_string();
    assert!(err.contains("the service answered for"), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = PinningClient::new(&url, TOKEN)
        .unwrap()
        .with_timeout(Duration::from_secs(5));
    let err = client.get("req").unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("pinning service: GET /pins/req at {url}: ")),
        "{err}"
    );
}
