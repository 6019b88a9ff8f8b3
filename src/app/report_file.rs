//! A report file written safely (`check --junit FILE`): never the input file itself (by
//! another spelling, a symbolic link or a hard link: compared by device and inode), and
//! written whole into a temporary file in the same folder, then renamed into place. The
//! rename replaces a symbolic link at FILE instead of following it onto another file, and
//! a run that fails halfway leaves the earlier report as it was.
//! Must not render anything: it takes the bytes it is given.

use crate::error::{Error, Result, printable};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
#[cfg(unix)]
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// A report being prepared: its temporary file exists until [`ReportFile::commit`] renames
/// it into place; dropped before that, it is removed. A target that is no regular file (a
/// device such as `/dev/null` or `/dev/full`, a FIFO) is written in place instead: renaming
/// over it would replace the device node itself (as root, with a regular file).
#[derive(Debug)]
pub struct ReportFile {
    target: PathBuf,
    /// `None`: the target is written in place.
    temporary: Option<PathBuf>,
    file: Option<File>,
}

impl ReportFile {
    /// Checks that `target` is not `input` and creates the temporary file next to it, so a
    /// folder the system refuses is exit 3 before any work (naming the report's path).
    pub fn prepare(target: &Path, input: &Path) -> Result<Self> {
        let name = printable(&target.display().to_string());
        if same_file(target, input) {
            return Err(Error::Usage(format!(
                "--junit {name} is the check file itself: give the report another path"
            )));
        }
        if std::fs::metadata(target).is_ok_and(|m| m.is_dir()) {
            #[cfg(unix)]
            let is_dir = std::io::Error::from_raw_os_error(nix::libc::EISDIR);
            #[cfg(not(unix))]
            let is_dir = std::io::Error::from(std::io::ErrorKind::IsADirectory);
            return Err(cannot_write(&name, &is_dir));
        }
        if let Ok(meta) = std::fs::symlink_metadata(target)
            && !meta.file_type().is_file()
            && !meta.file_type().is_symlink()
        {
            let file = OpenOptions::new()
                .write(true)
                .open(target)
                .map_err(|e| cannot(&name, "open", &e))?;
            return Ok(Self {
                target: target.to_path_buf(),
                temporary: None,
                file: Some(file),
            });
        }
        let folder = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = target
            .file_name()
            .ok_or_else(|| Error::Usage(format!("--junit {name}: not a file name")))?;
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(base);
        temporary_name.push(format!(".{}.tmp", std::process::id()));
        let temporary = folder.join(temporary_name);
        // create_new: never opens (or follows a link to) a file that already exists.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .map_err(|e| cannot(&name, "create a file beside", &e))?;
        Ok(Self {
            target: target.to_path_buf(),
            temporary: Some(temporary),
            file: Some(file),
        })
    }

    /// Writes `bytes` to the temporary file and renames it over the target.
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let name = printable(&self.target.display().to_string());
        let mut file = self
            .file
            .take()
            .ok_or_else(|| Error::Environment(format!("cannot write {name}: already written")))?;
        let Some(temporary) = self.temporary.take() else {
            // In place (a device, a FIFO): nothing to sync or rename.
            return file
                .write_all(bytes)
                .and_then(|()| file.flush())
                .map_err(|e| cannot_write(&name, &e));
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| cannot_write(&name, &e));
        drop(file);
        let renamed = written.and_then(|()| {
            std::fs::rename(&temporary, &self.target).map_err(|e| cannot(&name, "rename onto", &e))
        });
        if renamed.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        renamed
    }
}

impl Drop for ReportFile {
    fn drop(&mut self) {
        if let Some(temporary) = &self.temporary {
            let _ = std::fs::remove_file(temporary);
        }
    }
}

/// Whether two paths name one file (device and inode, links followed); a path that does
/// not exist yet is no file at all.
#[cfg(unix)]
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Elsewhere (Windows): the same file when both paths resolve to the same canonical path
/// (hard links are not told apart there).
#[cfg(not(unix))]
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn cannot_write(name: &str, e: &std::io::Error) -> Error {
    cannot(name, "write", e)
}

/// `cannot write /dev/full: No space left on device (os error 28)`: the report's path and
/// what failed (opening, creating, writing, renaming).
fn cannot(name: &str, what: &str, e: &std::io::Error) -> Error {
    Error::Environment(format!("cannot {what} {name}: {e}"))
}

// Symbolic links and inode comparisons: the tests are Unix's.
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    fn folder(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ipdiag-report-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_input_itself_is_refused_by_any_name() {
        let dir = folder("same");
        let input = dir.join("checks.toml");
        std::fs::write(&input, "x").unwrap();
        std::os::unix::fs::symlink(&input, dir.join("link.xml")).unwrap();
        std::fs::hard_link(&input, dir.join("hard.xml")).unwrap();
        for spelling in [
            input.clone(),
            dir.join(".").join("checks.toml"),
            dir.join("link.xml"),
            dir.join("hard.xml"),
        ] {
            let refused = ReportFile::prepare(&spelling, &input).unwrap_err();
            assert_eq!(refused.exit_code(), 2, "{}", spelling.display());
            assert!(refused.to_string().contains("is the check file itself"));
        }
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "x");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_link_at_the_target_is_replaced_not_followed() {
        let dir = folder("link");
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let target = dir.join("report.xml");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        let report = ReportFile::prepare(&target, &dir.join("checks.toml")).unwrap();
        report.commit(b"<xml/>").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "<xml/>");
        assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
        // A report dropped unwritten leaves nothing behind and the old one whole.
        drop(ReportFile::prepare(&target, &dir.join("checks.toml")).unwrap());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 2, "victim and report.xml only");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "<xml/>");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
