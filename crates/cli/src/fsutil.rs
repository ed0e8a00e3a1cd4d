//! Files the CLI writes appear whole or not at all: a failed decryption, a hash
//! mismatch or a crash never leaves a partial record, deployment or keystore.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written next to its destination; [`AtomicFile::commit`] renames it
/// into place, dropping it without commit removes it.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    /// Creates the temporary file (mode 0600) beside `dest`, so that the rename
    /// stays on one file system.
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{} is not a file name", dest.display())))?;
        let tmp = dir.join(format!(
            ".{}.{}.partial",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = create_private(&tmp).map_err(|e| Error::file(&tmp, e))?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            file: Some(file),
        })
    }

    /// The file to write to, until the commit.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("open until commit")
    }

    /// Flushes to disk and renames over the destination.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("open until commit");
        file.sync_all().map_err(|e| Error::file(&self.tmp, e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::file(&self.dest, e))
    }

    /// As [`AtomicFile::commit`], but never replaces: if the destination has
    /// appeared meanwhile, it stays as it is and this fails.
    pub fn commit_new(mut self) -> Result<()> {
        let file = self.file.take().expect("open until commit");
        let synced = file.sync_all().map_err(|e| Error::file(&self.tmp, e));
        drop(file);
        let placed = synced.and_then(|()| {
            // A hard link is made only where no name is: the check and the
            // placing are one step. A file system without links falls back to
            // a check, then a rename.
            match std::fs::hard_link(&self.tmp, &self.dest) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(Error::file(&self.dest, e))
                }
                Err(_) if std::fs::symlink_metadata(&self.dest).is_ok() => Err(Error::file(
                    &self.dest,
                    std::io::ErrorKind::AlreadyExists.into(),
                )),
                Err(_) => {
                    std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::file(&self.dest, e))
                }
            }
        });
        let _ = std::fs::remove_file(&self.tmp);
        placed
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Creates a file only its owner can read: records and keystores are private.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = AtomicFile::create(dest)?;
    out.file()
        .write_all(bytes)
        .map_err(|e| Error::file(dest, e))?;
    out.commit()
}
