//! `careledger demo --web DIR`: the browser app on a fresh chain, for people and
//! for the browser tests. A devnode in this process on `--rpc-listen`, CareLedger
//! deployed and activated by dev account 0 (the owner, as `careledger deploy`
//! does it), account 1 accredited as a verifier, and the server of `ipfs serve
//! --web DIR` on `--listen` with that deployment. One ready line says what is
//! where (one JSON line with --json, the only stdout line before serving), then
//! it serves until SIGTERM or Ctrl-C.

use super::{actor, work_dir};
use crate::cli::DemoWeb;
use crate::cmd::{deploy, roles};
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::serve::{self, AppConfig};
use crate::signals::Stop;
use careledger_devnode::rpc::RpcConfig;
use careledger_devnode::{Devnode, NodeConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// `demo --web`: a devnode with CareLedger deployed and the app served, until
/// Ctrl-C or SIGTERM.
pub async fn serve_web(
    opts: &DemoWeb,
    dir: Option<PathBuf>,
    contracts: &Path,
    json: bool,
) -> Result<()> {
    let web = opts
        .web
        .clone()
        .ok_or_else(|| Error::Usage("demo --web needs the app's directory".into()))?;
    // Both loopback (clap checked): the devnode signs eth_sendTransaction for its
    // dev accounts.
    let (listen, rpc_listen) = (opts.listen, opts.rpc_listen);
    let notifier = opts.notifier.as_ref().map(|n| n.as_str().to_string());
    // Before the first file: a signal from here on ends the demo through its clean-up.
    let mut stop = Stop::listen()?;
    let mut work = work_dir(dir)?;
    let dir = work.path().to_path_buf();
    let (listener, bound) = serve::bind(listen).await?;
    // The app's page calls the devnode from the browser, so its origin, and those
    // allowed to use the IPFS API, get CORS from the devnode (it allows none by default).
    let mut app_origins = vec![format!("http://{bound}")];
    if bound.ip().is_loopback() {
        app_origins.push(format!("http://localhost:{}", bound.port()));
    }
    let rpc = RpcConfig {
        addr: rpc_listen,
        allow_origins: app_origins
            .into_iter()
            .chain(opts.allow_origin.iter().cloned())
            .collect(),
        ..RpcConfig::default()
    };
    let dev = Devnode::start(NodeConfig::default(), rpc)
        .await
        .map_err(|e| Error::Devnode(e.to_string()))?;
    let setup = Setup {
        web,
        allow_origins: opts.allow_origin.clone(),
        notifier,
        print_keys: opts.print_keys,
        json,
    };
    let app = tokio::select! {
        _ = stop.requested() => Err(Error::Interrupted("before the demo was ready")),
        app = setup.run(&dev, &dir, contracts, bound) => app,
    };
    let served = match app {
        Ok(app) => {
            // Deployed and served: a --dir keeps the chain's files for a look after.
            work.keep();
            serve::run(listener, app, stop).await
        }
        Err(e) => Err(e),
    };
    dev.stop().await;
    served
}

struct Setup {
    web: PathBuf,
    allow_origins: Vec<String>,
    notifier: Option<String>,
    print_keys: bool,
    json: bool,
}

impl Setup {
    /// Deploys, announces, and returns the app to serve on `bound`.
    async fn run(
        self,
        dev: &Devnode,
        dir: &Path,
        contracts: &Path,
        bound: SocketAddr,
    ) -> Result<axum::Router> {
        let owner = actor(dev, 0, dir)?;
        // Built before deploying, so that a wrong --web fails at once.
        let app = serve::router(serve::Options {
            store: owner.store_dir.clone(),
            allow_origins: self.allow_origins.clone(),
            web: Some(self.web.clone()),
            app: AppConfig {
                deployment: owner.deployment_path.clone(),
                rpc_url: dev.url(),
                notifier: self.notifier.clone(),
            },
        })?;
        let (d, _) = deploy::run(&owner, contracts).await?;
        let verifier = dev.node.accounts()[1].address();
        roles::verifier(&owner, verifier, true).await?;
        let app_url = format!("http://{bound}/");
        let ready = self.ready(dev, &app_url, &d, &owner.store_dir);
        if self.json {
            serve::announce(&ready.to_string());
        } else {
            serve::announce(&self.human(&ready, dir));
        }
        Ok(app)
    }

    /// `{"app","rpcUrl","chainId","deployment","store","accounts":[{"index","role","address"
    /// [,"privateKey"]}]}`: keys only with --print-keys, even though they are the
    /// devnode's public dev keys.
    fn ready(&self, dev: &Devnode, app_url: &str, d: &Deployment, store: &Path) -> Value {
        let accounts: Vec<Value> = dev
            .node
            .accounts()
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let role = match i {
                    0 => "owner",
                    1 => "verifier",
                    _ => "free",
                };
                let mut account = json!({"index": i, "role": role, "address": a.address()});
                if self.print_keys {
                    account["privateKey"] =
                        format!("0x{}", alloy::hex::encode(a.signer.to_bytes())).into();
                }
                account
            })
            .collect();
        json!({
            "app": app_url,
            "rpcUrl": dev.url(),
            "chainId": d.chain_id,
            "deployment": d,
            // Where the encrypted blocks land: the browser tests scan it for plaintext.
            "store": store.display().to_string(),
            "accounts": accounts,
        })
    }

    fn human(&self, ready: &Value, dir: &Path) -> String {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let d = &ready["deployment"];
        let mut lines = vec![
            format!("CareLedger demo: open {}", text(&ready["app"])),
            format!(
                "chain {} at {}: PatientRegistry {}, AccessToken {}, RecordRegistry {}",
                ready["chainId"],
                text(&ready["rpcUrl"]),
                text(&d["patientRegistry"]),
                text(&d["accessToken"]),
                text(&d["recordRegistry"])
            ),
        ];
        for a in ready["accounts"].as_array().into_iter().flatten() {
            let what = match a["role"].as_str() {
                Some("owner") => "owner: deployed the contracts, accredits verifiers",
                Some("verifier") => "verifier: verifies doctors",
                _ => "free: register it as a patient or a doctor",
            };
            let key = a["privateKey"]
                .as_str()
                .map_or(String::new(), |k| format!("  key {k}"));
            lines.push(format!(
                "  account {}  {}  {what}{key}",
                a["index"],
                text(&a["address"])
            ));
        }
        if !self.print_keys {
            lines.push(
                "  --print-keys shows the accounts' keys (the devnode's public, throwaway dev keys)"
                    .into(),
            );
        }
        lines.push(format!(
            "files in {}; Ctrl-C stops the demo and the chain with it",
            dir.display()
        ));
        lines.join("\n")
    }
}
