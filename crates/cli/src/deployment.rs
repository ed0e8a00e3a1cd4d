//! The deployment file. Its type and checks live in careledger-bindings, shared
//! with the notifier and the tests; the CLI adds its errors and the atomic write.

use crate::error::{Error, Result};
pub use careledger_bindings::{Deployment, DeploymentError};
use std::path::Path;

impl From<DeploymentError> for Error {
    fn from(e: DeploymentError) -> Self {
        match e {
            DeploymentError::Missing { path } => Error::NoDeployment {
                path: path.display().to_string(),
            },
            DeploymentError::Unreadable { path, source } => Error::file(&path, source),
            DeploymentError::Malformed { path, reason } => Error::BadDeployment {
                path: path.display().to_string(),
                reason,
            },
        }
    }
}

/// Writes `d` to `path` atomically: a reader never sees half a file, and a
/// crash leaves the old file or the new one.
///
/// # Errors
/// [`Error::File`] when the file or its directory cannot be written.
pub fn save(d: &Deployment, path: &Path) -> Result<()> {
    crate::fsutil::write_atomic(path, d.to_file_text().as_bytes())
}
