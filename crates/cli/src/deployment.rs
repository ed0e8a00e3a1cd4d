//! The deployment file: where the three contracts of one CareLedger live.

use crate::error::{Error, Result};
use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    pub chain_id: u64,
    #[serde(deserialize_with = "checked")]
    pub patient_registry: Address,
    #[serde(deserialize_with = "checked")]
    pub access_token: Address,
    #[serde(deserialize_with = "checked")]
    pub record_registry: Address,
    /// The block of the first deployment transaction: event scans start here.
    pub deploy_block: u64,
}

/// An address in the file, held to the command line's rule
/// ([`crate::cli::address`]): a file edited by hand or handed over is as likely
/// to carry a mistyped mixed-case address as an argument is.
fn checked<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Address, D::Error> {
    let text = String::deserialize(d)?;
    crate::cli::address(&text).map_err(serde::de::Error::custom)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_file_with_a_wrong_checksum_is_malformed() {
        let file = |registry: &str| {
            format!(
                r#"{{"chainId":1,"patientRegistry":"{registry}","accessToken":"0x0000000000000000000000000000000000000002","recordRegistry":"0x0000000000000000000000000000000000000003","deployBlock":0}}"#
            )
        };
        let right = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let d: Deployment = serde_json::from_str(&file(right)).unwrap();
        assert_eq!(d.patient_registry.to_checksum(None), right);
        assert!(serde_json::from_str::<Deployment>(&file(&right.to_lowercase())).is_ok());
        let err = serde_json::from_str::<Deployment>(&file(&right.replacen("aA", "AA", 1)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("EIP-55"), "{err}");
        // What `save` writes reads back.
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Deployment>(&text).unwrap(), d);
    }
}
