//! The deployment file: where the three contracts of one CareLedger live. The
//! CLI writes it (`careledger deploy`); the CLI, the notifier, the web app's
//! server and the tests read it.

use crate::address::parse_checked;
use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A deployment file is a few hundred bytes; anything past this is not one.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Where the contracts of one CareLedger live, on which chain, and from which
/// block their events start.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// The chain the contracts are on: clients refuse an RPC endpoint of another.
    pub chain_id: u64,
    /// PatientRegistry's address.
    #[serde(deserialize_with = "checked")]
    pub patient_registry: Address,
    /// AccessToken's address.
    #[serde(deserialize_with = "checked")]
    pub access_token: Address,
    /// RecordRegistry's address.
    #[serde(deserialize_with = "checked")]
    pub record_registry: Address,
    /// The block of the first deployment transaction: event scans start here.
    pub deploy_block: u64,
}

/// Why a deployment file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// No file at the path.
    #[error("no deployment file at {}", path.display())]
    Missing {
        /// The path looked at.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("{}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not a deployment file: bad JSON, an unknown or missing
    /// field, a malformed or wrongly checksummed address, or too large.
    #[error("deployment file {} is malformed: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// An address in the file, held to the command line's rule: a file edited by
/// hand or handed over is as likely to carry a mistyped address as an argument.
fn checked<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
    let text = String::deserialize(d)?;
    parse_checked(&text).map_err(serde::de::Error::custom)
}

impl Deployment {
    /// Reads and checks the file at `path`, reading at most [`MAX_FILE_BYTES`].
    ///
    /// # Errors
    /// [`DeploymentError::Missing`], [`DeploymentError::Unreadable`] or
    /// [`DeploymentError::Malformed`].
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let file = std::fs::File::open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                DeploymentError::Missing { path: path.into() }
            } else {
                DeploymentError::Unreadable {
                    path: path.into(),
                    source,
                }
            }
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| DeploymentError::Unreadable {
                path: path.into(),
                source,
            })?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(DeploymentError::Malformed {
                path: path.into(),
                reason: format!("larger than {MAX_FILE_BYTES} bytes"),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| DeploymentError::Malformed {
            path: path.into(),
            reason: e.to_string(),
        })
    }

    /// The file's text as `careledger deploy` writes it: pretty JSON and a
    /// final newline. Writing it (atomically) is the writer's business.
    pub fn to_file_text(&self) -> String {
        // SAFETY: plain integers and addresses always serialise.
        let mut text = serde_json::to_string_pretty(self).expect("plain data serialises");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(registry: &str) -> String {
        format!(
            r#"{{"chainId":1,"patientRegistry":"{registry}","accessToken":"0x0000000000000000000000000000000000000002","recordRegistry":"0x0000000000000000000000000000000000000003","deployBlock":0}}"#
        )
    }

    const RIGHT: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    #[test]
    fn a_deployment_file_with_a_wrong_checksum_is_malformed() {
        let d: Deployment = serde_json::from_str(&file(RIGHT)).unwrap();
        assert_eq!(d.patient_registry.to_checksum(None), RIGHT);
        assert!(serde_json::from_str::<Deployment>(&file(&RIGHT.to_lowercase())).is_ok());
        let err = serde_json::from_str::<Deployment>(&file(&RIGHT.replacen("aA", "AA", 1)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("EIP-55"), "{err}");
    }

    #[test]
    fn what_is_written_reads_back_and_unknown_fields_are_refused() {
        let d: Deployment = serde_json::from_str(&file(RIGHT)).unwrap();
        assert_eq!(
            serde_json::from_str::<Deployment>(&d.to_file_text()).unwrap(),
            d
        );
        let extra = file(RIGHT).replace("\"deployBlock\":0", "\"deployBlock\":0,\"admin\":\"x\"");
        assert!(serde_json::from_str::<Deployment>(&extra).is_err());
    }

    #[test]
    fn load_names_a_missing_an_oversized_and_a_malformed_file() {
        let dir = std::env::temp_dir().join(format!("careledger-bindings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("none.json");
        assert!(matches!(
            Deployment::load(&missing),
            Err(DeploymentError::Missing { .. })
        ));
        let big = dir.join("big.json");
        std::fs::write(&big, vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        let err = Deployment::load(&big).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{").unwrap();
        assert!(matches!(
            Deployment::load(&bad),
            Err(DeploymentError::Malformed { .. })
        ));
        let good = dir.join("good.json");
        std::fs::write(&good, file(RIGHT)).unwrap();
        assert_eq!(Deployment::load(&good).unwrap().chain_id, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
