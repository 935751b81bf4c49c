//! Turning command-line inputs (files and folders) into the list of images to analyse.

use std::path::{Path, PathBuf};

/// One line of a labelled frame list: the frame (relative to the list's folder) and its other tab-separated fields.
pub struct ListLine {
    /// Where the line is (`list:line`), for messages.
    pub at: String,
    /// The frame.
    pub path: PathBuf,
    /// The fields after the file name, trimmed.
    pub fields: Vec<String>,
}

/// The lines of a `file<TAB>…` list (`dso-detect eval --names`/`--objects`): `#` starts a comment, blank lines are
/// skipped, file paths are relative to the list's folder. An error when the list cannot be read or lists nothing.
pub fn read_tab_list(list: &Path) -> anyhow::Result<Vec<ListLine>> {
    use anyhow::Context;
    let text = std::fs::read_to_string(list).with_context(|| format!("cannot read {}", list.display()))?;
    let base = list.parent().unwrap_or(Path::new("."));
    let out: Vec<ListLine> = text
        .lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let line = line.split('#').next().unwrap_or("").trim();
            let mut fields = line.split('\t').map(|f| f.trim().to_owned());
            let file = fields.next().filter(|f| !f.is_empty())?;
            let at = format!("{}:{}", list.display(), n + 1);
            Some(ListLine { at, path: base.join(file), fields: fields.collect() })
        })
        .collect();
    if out.is_empty() {
        anyhow::bail!("{} lists no frame", list.display());
    }
    Ok(out)
}

/// Whether a path looks like an image by its name (the decoder's own rule).
pub fn is_image(path: &Path) -> bool {
    dso_models::decode::is_image_name(path)
}

/// Files as given, folders expanded (not recursively) to their images, sorted by name within a folder.
pub fn expand(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && is_image(p)).collect())
                .unwrap_or_default();
            found.sort();
            out.extend(found);
        } else {
            out.push(input.clone());
        }
    }
    out
}

/// The file name without its image suffixes (`m31.fits.fz` → `m31`): the decoder's rule,
/// [`dso_models::decode::image_stem`].
pub fn stem(path: &Path) -> String {
    dso_models::decode::image_stem(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_compound_suffixes() {
        assert_eq!(stem(Path::new("/a/m31.fits.fz")), "m31");
        assert_eq!(stem(Path::new("b/Light_001.FIT")), "Light_001");
        assert_eq!(stem(Path::new("x.jpg")), "x");
        assert_eq!(stem(Path::new("noext")), "noext");
    }

    #[test]
    fn image_names_follow_the_decoder() {
        for yes in ["a.fits.fz", "b.FIT", "c.jpg.z", "d.png", "e.fts", "f.xisf"] {
            assert!(is_image(Path::new(yes)), "{yes}");
        }
        for no in ["notes.txt", "x.fits.bak", "fits", "y.xyz.z"] {
            assert!(!is_image(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn folders_expand_to_sorted_images_only() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.fits", "a.jpg", "notes.txt", "c.png"] {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        let names: Vec<String> =
            expand(&[dir.path().to_owned()]).iter().map(|p| p.file_name().unwrap().to_string_lossy().into()).collect();
        assert_eq!(names, ["a.jpg", "b.fits", "c.png"]);
    }
}
