//! Keys: an Ethereum key in a Web3 Secret Storage keystore (scrypt + AES-128-CTR,
//! what geth, cast and alloy read), or from CARELEDGER_PRIVATE_KEY. The user's
//! X25519 key for record keys is derived from it, so one secret is all there is
//! to back up. Neither secret is ever printed or logged.

use crate::error::{Error, Result};
use alloy::signers::local::PrivateKeySigner;
use careledger_vault::ReaderKeypair;
use std::path::Path;

/// Domain separation for the X25519 derivation: a different use of the same
/// Ethereum key never yields the same X25519 key.
const X25519_DOMAIN: &[u8] = b"careledger/x25519/1";

/// Where the keystore password comes from, in order: the file, the environment,
/// then a prompt on the terminal.
pub fn password(password_file: Option<&Path>) -> Result<String> {
    if let Some(path) = password_file {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_string());
    }
    if let Ok(pw) = std::env::var("CARELEDGER_PASSWORD") {
        return Ok(pw);
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password("keystore password: ")
            .map_err(|e| Error::Usage(format!("reading the password: {e}")));
    }
    Err(Error::Usage(
        "a keystore password is needed: set CARELEDGER_PASSWORD or pass --password-file".into(),
    ))
}

pub fn open(path: &Path, password: &str) -> Result<PrivateKeySigner> {
    if !path.exists() {
        return Err(Error::Usage(format!(
            "keystore {} not found",
            path.display()
        )));
    }
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|_| Error::Keystore {
        path: path.display().to_string(),
    })
}

/// A new random key, written encrypted to `path` (which must not exist).
pub fn create(path: &Path, password: &str) -> Result<PrivateKeySigner> {
    if path.exists() {
        return Err(Error::Usage(format!(
            "{} exists: refusing to overwrite a keystore",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Usage(format!("{} is not a file name", path.display())))?;
    // Encrypt under a temporary name, then rename: an interrupted run leaves no
    // half-written keystore where the user expects one.
    let tmp_name = format!(".{name}.{}.partial", std::process::id());
    let (signer, _uuid) =
        PrivateKeySigner::new_keystore(dir, &mut rand::rngs::OsRng, password, Some(&tmp_name))
            .map_err(|e| Error::Usage(format!("writing the keystore: {e}")))?;
    let tmp = dir.join(&tmp_name);
    restrict(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::file(path, e))?;
    Ok(signer)
}

#[cfg(unix)]
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::file(path, e))
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> Result<()> {
    Ok(())
}

/// The user's X25519 keypair for record keys, derived from their Ethereum key.
pub fn reader_key(signer: &PrivateKeySigner) -> ReaderKeypair {
    let mut seed = X25519_DOMAIN.to_vec();
    seed.extend_from_slice(&signer.credential().to_bytes());
    let keypair = ReaderKeypair::derive(&seed);
    seed.iter_mut().for_each(|b| *b = 0);
    keypair
}

/// A private key from the environment: 32 bytes of hex, with or without 0x.
pub fn from_env(value: &str) -> Result<PrivateKeySigner> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::Usage("CARELEDGER_PRIVATE_KEY is not a 32-byte hex private key".into()))
}
