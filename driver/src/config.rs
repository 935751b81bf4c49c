//! The driver's configuration file, in libindi's format so INDI users recognise it and tools that edit INDI
//! configurations can read it: `<INDIDriver>` around one `newXXXVector` per saved property, in
//! `~/.indi/<Device>_config.xml` unless `INDICONFIG` names another file (libindi's `getConfigFileName`).
//!
//! Only properties a user chooses are saved (camera to watch, detector, settings, outputs), never results.
//! The first save also writes `<file>.default` with the factory values, which `CONFIG_DEFAULT` restores — the same
//! pair of files libindi keeps.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::indi::{self, Message, NewVector, Values};

/// Where the configuration lives: `INDICONFIG`, else `~/.indi/<device>_config.xml`.
pub fn path_for(device: &str) -> PathBuf {
    if let Some(p) = std::env::var_os("INDICONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".indi").join(format!("{device}_config.xml"))
}

/// The `.default` file beside a configuration file.
pub fn default_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".default");
    PathBuf::from(s)
}

/// Why a configuration could not be read.
#[derive(Debug)]
pub enum LoadError {
    /// There is no file (a first start: not an error for the user).
    Missing,
    /// The file exists but could not be read.
    Io(std::io::Error),
    /// The file is not a libindi configuration.
    Malformed(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Missing => f.write_str("no configuration file"),
            LoadError::Io(e) => write!(f, "cannot read: {e}"),
            LoadError::Malformed(why) => write!(f, "not a valid INDI configuration: {why}"),
        }
    }
}

/// Renders properties as a libindi configuration document.
pub fn render(items: &[NewVector]) -> String {
    let mut out = String::from("<INDIDriver>\n");
    for item in items {
        let tag = item.values.kind().new_tag();
        let child = item.values.kind().one_child();
        let _ = writeln!(out, "<{tag} device='{}' name='{}'>", esc(&item.device), esc(&item.name));
        let mut one = |name: &str, value: &str| {
            let _ = writeln!(out, "  <{child} name='{}'>\n      {}\n  </{child}>", esc(name), esc(value));
        };
        match &item.values {
            Values::Text(v) => v.iter().for_each(|e| one(&e.name, &e.value)),
            Values::Number(v) => v.iter().for_each(|e| one(&e.name, &e.value.to_string())),
            Values::Switch(v) => v.iter().for_each(|e| one(&e.name, e.state.as_str())),
            Values::Light(v) => v.iter().for_each(|e| one(&e.name, e.state.as_str())),
            Values::Blob(_) => {}
        }
        let _ = writeln!(out, "</{tag}>");
    }
    out.push_str("</INDIDriver>\n");
    out
}

/// `s` escaped for an attribute or text, by the codec's own escaper.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::indi::escape_into(&mut out, s);
    out
}

/// Parses a libindi configuration document into the `newXXXVector`s it holds.
pub fn parse(text: &str) -> Result<Vec<NewVector>, LoadError> {
    let start = text.find("<INDIDriver>").ok_or_else(|| LoadError::Malformed("no <INDIDriver> element".into()))?;
    let body = &text[start + "<INDIDriver>".len()..];
    let end = body.rfind("</INDIDriver>").ok_or_else(|| LoadError::Malformed("no </INDIDriver>".into()))?;
    let mut decoder = indi::Decoder::new();
    decoder.push(&body.as_bytes()[..end]);
    decoder.finish();
    let mut items = Vec::new();
    while let Some(msg) = decoder.next_message() {
        match msg {
            Ok(Message::New(n)) => items.push(n),
            Ok(other) => return Err(LoadError::Malformed(format!("unexpected <{}>", other.tag()))),
            Err(e) => return Err(LoadError::Malformed(e.to_string())),
        }
    }
    Ok(items)
}

/// Reads a configuration file.
pub fn load(path: &Path) -> Result<Vec<NewVector>, LoadError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LoadError::Missing),
        Err(e) => Err(LoadError::Io(e)),
    }
}

/// Writes a configuration file atomically (a crash or a full disk mid-write never leaves half a file), creating its
/// folder, and the `.default` file with `defaults` when it does not exist yet (atomically too: a `.default` cut short
/// by a full disk would otherwise stay, since it is never written again).
pub fn save(path: &Path, items: &[NewVector], defaults: &[NewVector]) -> Result<(), String> {
    let what = |e: std::io::Error| format!("cannot save {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if dir.exists() && !dir.is_dir() {
            return Err(format!("cannot save {}: {} is a file, not a folder", path.display(), dir.display()));
        }
        std::fs::create_dir_all(dir).map_err(what)?;
    }
    let default = default_path(path);
    if !default.exists() {
        write_atomically(&default, &render(defaults)).map_err(what)?;
    }
    write_atomically(path, &render(items)).map_err(what)
}

/// Writes `text` to `<path>.tmp` and renames it over `path`; the temporary file is removed when that fails.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Deletes the configuration file (libindi's `CONFIG_PURGE`); a missing file is fine.
pub fn purge(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot purge {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indi::{OneNumber, OneSwitch, OneText, SwitchState};

    fn items() -> Vec<NewVector> {
        let nv = |name: &str, values| NewVector {
            device: "DSO <Detector>".into(),
            name: name.into(),
            timestamp: None,
            values,
        };
        vec![
            nv(
                "ACTIVE_DEVICES",
                Values::Text(vec![OneText { name: "ACTIVE_CCD".into(), value: "ZWO CCD ASI294MC Pro".into() }]),
            ),
            nv("DSO_SETTINGS", Values::Number(vec![OneNumber { name: "CONFIDENCE".into(), value: 0.35 }])),
            nv("DSO_DETECTOR", Values::Switch(vec![OneSwitch { name: "NAIVE".into(), state: SwitchState::On }])),
        ]
    }

    #[test]
    fn render_then_parse_round_trips() {
        let text = render(&items());
        assert!(text.starts_with("<INDIDriver>\n<newTextVector device='DSO &lt;Detector&gt;' name='ACTIVE_DEVICES'>"));
        assert_eq!(parse(&text).unwrap(), items());
    }

    #[test]
    fn save_writes_default_once_and_purge_removes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/DSO Detector_config.xml");
        save(&path, &items(), &items()[..1]).unwrap();
        assert_eq!(load(&path).unwrap(), items());
        assert_eq!(load(&default_path(&path)).unwrap(), items()[..1].to_vec());
        save(&path, &items()[1..], &items()).unwrap();
        assert_eq!(load(&default_path(&path)).unwrap(), items()[..1].to_vec(), ".default is written once");
        purge(&path).unwrap();
        assert!(matches!(load(&path), Err(LoadError::Missing)));
    }

    #[test]
    fn a_file_where_the_folder_should_be_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("indi"), "").unwrap();
        let err = save(&dir.path().join("indi/c.xml"), &items(), &items()).unwrap_err();
        assert!(err.ends_with("indi is a file, not a folder"), "{err}");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.xml");
        std::fs::create_dir(&path).unwrap(); // the rename over a folder fails
        assert!(save(&path, &items(), &items()).is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(!names.iter().any(|n| n.to_string_lossy().ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        assert!(matches!(parse("hello"), Err(LoadError::Malformed(_))));
        assert!(matches!(parse("<INDIDriver><newTextVector device='x'"), Err(LoadError::Malformed(_))));
    }
}
