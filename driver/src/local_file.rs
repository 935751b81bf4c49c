//! Reading the frame a camera in `UPLOAD_LOCAL` mode saved on this machine, and nothing else.
//!
//! The camera announces the file in `CCD_FILE_PATH.FILE_PATH`, but indiserver forwards a *client's* forged
//! `setTextVector device="<camera>" name="CCD_FILE_PATH"` to snooping drivers exactly as it forwards the camera's
//! own, so the path is untrusted input. Only what the camera itself would have written is read:
//!
//! - an image file name (checked by the device before the job is queued);
//! - inside the camera's upload directory when it is known (`UPLOAD_SETTINGS.UPLOAD_DIR`, snooped), after every
//!   symbolic link is resolved: a link leading out of it (to `/dev/zero`, to another user's files) is refused;
//! - a regular file: FIFOs, devices, sockets and directories are refused. A cheap look at the path first spares
//!   opening a device at all; the decision is taken on the opened descriptor (`fstat`), so a file swapped after the
//!   look cannot pass. The file is opened with `O_NONBLOCK` (opening a FIFO never waits for a writer),
//!   `O_NOFOLLOW` (the resolved path must not have become a link) and `O_NOCTTY`;
//! - at most the frame limit (`DSO_MAX_FRAME_MB`) long, by `fstat` and again while reading (a file that grows is
//!   cut at the limit plus one byte and refused).
//!
//! Each refusal is a [`ReadError`] whose text is for the astronomer; the worker reports it with `DSO_RESULTS` in
//! Alert and takes the next frame.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why a frame file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file system said no.
    #[error("cannot read {}: {source}", shown(path))]
    Io {
        /// The path announced.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The camera's upload directory cannot be resolved, so nothing can be checked against it.
    #[error("{} is not read: the camera's upload directory {} is unusable: {source}", shown(path), shown(dir))]
    UploadDir {
        /// The path announced.
        path: PathBuf,
        /// The upload directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file, links resolved, is not in the camera's upload directory.
    #[error("{} is not read: it lies outside the camera's upload directory {}", shown(path), shown(dir))]
    Outside {
        /// The path announced.
        path: PathBuf,
        /// The upload directory.
        dir: PathBuf,
    },
    /// Not a regular file (`what`: "a FIFO", "a device"…).
    #[error("{} is not read: it is {what}, not a file a camera saved", shown(path))]
    NotAFile {
        /// The path announced.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// Longer than the frame limit (`grew`: found while reading, not by `fstat`).
    #[error(
        "{} is not read: {size} bytes is more than the frame limit of {} MiB (DSO_MAX_FRAME_MB){}",
        shown(path),
        max_bytes >> 20,
        if *grew { " (it grew while being read)" } else { "" }
    )]
    TooLarge {
        /// The path announced.
        path: PathBuf,
        /// Its size (or what was read of it).
        size: u64,
        /// The limit.
        max_bytes: u64,
        /// Whether it grew while being read.
        grew: bool,
    },
    /// The file holds nothing: a camera that could not write its frame (a full disk) still announces it.
    #[error("{} is empty: the camera saved no image (is its disk full?)", shown(path))]
    Empty {
        /// The path announced.
        path: PathBuf,
    },
}

/// A path for a message: whole up to `PATH_MAX` (no real file has a longer one), else its first 200 bytes. The path
/// comes from a camera's property, which a client can forge up to the message limit (1 MiB): without this, all of it
/// went into `DSO_RESULTS.SUMMARY` and the log.
fn shown(path: &Path) -> String {
    const PATH_MAX: usize = 4096;
    let text = path.to_string_lossy();
    if text.len() <= PATH_MAX {
        return text.into_owned();
    }
    let mut end = 200;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// Reads the frame file `path`, which must lie in `upload_dir` when that is known and hold at most `max_bytes`.
pub fn read_frame(path: &Path, upload_dir: Option<&Path>, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source: std::io::Error| ReadError::Io { path: path.to_owned(), source };
    let real = std::fs::canonicalize(path).map_err(io)?;
    if let Some(dir) = upload_dir {
        let dir_real = std::fs::canonicalize(dir).map_err(|source| ReadError::UploadDir {
            path: path.to_owned(),
            dir: dir.to_owned(),
            source,
        })?;
        if !real.starts_with(&dir_real) {
            return Err(ReadError::Outside { path: path.to_owned(), dir: dir.to_owned() });
        }
    }
    // A first look on the path, so that a device is never even opened; not the decision (see below).
    let seen = std::fs::metadata(&real).map_err(io)?;
    check_regular(&seen, path, max_bytes)?;
    let mut file = File::options()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW | nix::libc::O_NOCTTY)
        .open(&real)
        .map_err(io)?;
    // The decision: fstat on what was opened.
    let opened = file.metadata().map_err(io)?;
    let size = check_regular(&opened, path, max_bytes)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    (&mut file).take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { path: path.to_owned(), size: bytes.len() as u64, max_bytes, grew: true });
    }
    if bytes.is_empty() {
        return Err(ReadError::Empty { path: path.to_owned() });
    }
    Ok(bytes)
}

/// The file's size when it is a regular file within the limit.
fn check_regular(meta: &Metadata, path: &Path, max_bytes: u64) -> Result<u64, ReadError> {
    let kind = meta.file_type();
    let what = if kind.is_file() {
        None
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_dir() {
        Some("a directory")
    } else {
        Some("not a regular file")
    };
    if let Some(what) = what {
        return Err(ReadError::NotAFile { path: path.to_owned(), what });
    }
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge { path: path.to_owned(), size: meta.len(), max_bytes, grew: false });
    }
    Ok(meta.len())
}

/// A camera's upload directory from `UPLOAD_SETTINGS.UPLOAD_DIR` (empty means unknown; a leading `~` is the home
/// directory, which the camera driver shares with this one under the same indiserver).
pub fn upload_dir(value: &str) -> Option<PathBuf> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    match (value, value.strip_prefix("~/")) {
        ("~", _) => home(),
        (_, Some(rest)) => home().map(|h| h.join(rest)),
        _ => Some(PathBuf::from(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn a_forged_path_of_a_megabyte_is_not_echoed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let forged = dir.path().join("é".repeat(300_000) + ".fits");
        let err = read_frame(&forged, Some(dir.path()), 100).unwrap_err().to_string();
        assert!(err.len() < 400, "{} bytes: {}", err.len(), &err[..400.min(err.len())]);
        assert!(err.contains("... (600") && err.starts_with("cannot read "), "{err}");
        // A long but possible path stays whole: the user must be able to find the file.
        let deep = dir.path().join("a".repeat(200)).join("b".repeat(200)).join("IMAGE_001.fits");
        let err = read_frame(&deep, Some(dir.path()), 100).unwrap_err().to_string();
        assert!(err.contains(&*deep.to_string_lossy()), "{err}");
    }

    #[test]
    fn a_file_in_the_upload_directory_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = saved(dir.path(), "IMAGE_001.fits", b"SIMPLE  =");
        assert_eq!(read_frame(&p, Some(dir.path()), 100).unwrap(), b"SIMPLE  =");
        assert_eq!(read_frame(&p, None, 100).unwrap(), b"SIMPLE  =");
        // A link that stays inside the directory is what it points to.
        std::os::unix::fs::symlink(&p, dir.path().join("latest.fits")).unwrap();
        assert_eq!(read_frame(&dir.path().join("latest.fits"), Some(dir.path()), 100).unwrap(), b"SIMPLE  =");
    }

    #[test]
    fn files_outside_the_upload_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let p = saved(elsewhere.path(), "private.fits", b"SIMPLE  =");
        let err = read_frame(&p, Some(dir.path()), 100).unwrap_err().to_string();
        assert!(err.contains("outside the camera's upload directory"), "{err}");
        std::os::unix::fs::symlink(&p, dir.path().join("link.fits")).unwrap();
        let err = read_frame(&dir.path().join("link.fits"), Some(dir.path()), 100).unwrap_err().to_string();
        assert!(err.contains("outside the camera's upload directory"), "{err}");
        let dotdot = dir.path().join("..").join(elsewhere.path().file_name().unwrap()).join("private.fits");
        let err = read_frame(&dotdot, Some(dir.path()), 100).unwrap_err().to_string();
        assert!(err.contains("outside"), "{err}");
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("frame.fits");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = read_frame(&fifo, Some(dir.path()), 100).unwrap_err().to_string();
        assert!(err.ends_with("is not read: it is a FIFO, not a file a camera saved"), "{err}");
        let err = read_frame(Path::new("/dev/zero"), None, 100).unwrap_err().to_string();
        assert!(err.contains("it is a device"), "{err}");
        std::fs::create_dir(dir.path().join("d.fits")).unwrap();
        let err = read_frame(&dir.path().join("d.fits"), None, 100).unwrap_err().to_string();
        assert!(err.contains("a directory"), "{err}");
        let err = read_frame(&dir.path().join("missing.fits"), None, 100).unwrap_err().to_string();
        assert!(err.starts_with("cannot read") && err.contains("No such file"), "{err}");
    }

    #[test]
    fn files_over_the_frame_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = saved(dir.path(), "big.fits", &vec![0u8; 3 << 20]);
        let err = read_frame(&p, Some(dir.path()), 2 << 20).unwrap_err().to_string();
        assert!(err.ends_with("3145728 bytes is more than the frame limit of 2 MiB (DSO_MAX_FRAME_MB)"), "{err}");
        assert_eq!(read_frame(&p, Some(dir.path()), 3 << 20).unwrap().len(), 3 << 20);
    }

    #[test]
    fn an_empty_file_says_the_camera_saved_nothing() {
        // INDI 1.9.9's CCD simulator on a full disk announces "Image saved" and a file of 0 bytes
        // (tests/integration/faults_storage.rs)
        let dir = tempfile::tempdir().unwrap();
        let p = saved(dir.path(), "IMAGE_001.fits", b"");
        let err = read_frame(&p, Some(dir.path()), 100).unwrap_err().to_string();
        assert!(err.ends_with("IMAGE_001.fits is empty: the camera saved no image (is its disk full?)"), "{err}");
    }

    #[test]
    fn upload_dir_values() {
        assert_eq!(upload_dir("  "), None);
        assert_eq!(upload_dir(" /home/pi/images "), Some(PathBuf::from("/home/pi/images")));
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(upload_dir("~/images"), Some(PathBuf::from(home).join("images")));
        }
    }
}
