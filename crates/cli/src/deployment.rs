//! The deployment file: where the three contracts of one CareLedger live.

use crate::error::{Error, Result};
use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    pub chain_id: u64,
    pub patient_registry: Address,
    pub access_token: Address,
    pub record_registry: Address,
    /// The block of the first deployment transaction: event scans start here.
    pub deploy_block: u64,
}

impl Deployment {
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoDeployment {
                    path: path.display().to_string(),
                })
            }
            Err(e) => return Err(Error::file(path, e)),
        };
        serde_json::from_str(&text).map_err(|e| Error::BadDeployment {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("plain data serialises");
        text.push('\n');
        crate::fsutil::write_atomic(path, text.as_bytes())
    }
}
