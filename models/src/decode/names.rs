//! File names and format labels: which files are images, the INDI format string a file name stands for, a file's
//! stem without its image suffixes.
//!
//! The CLI walks folders and the driver accepts a camera's locally saved file by name alone, and a BLOB's format
//! label names the data in error messages; all of that is string work on names, apart from the byte-level decoding
//! in [`super`], which trusts magic bytes over labels.

use std::path::Path;

use super::Kind;

/// The INDI format string for a file, from its name: `.fits`, `.fits.fz`, `.jpg`, `.png`, with `.z` or `.gz`
/// appended for compressed wrappers; the lower-cased last extension otherwise (decoding then sniffs).
///
/// ```
/// use dso_models::decode::format_from_path;
/// assert_eq!(format_from_path("Light_M94.FIT"), ".fits");
/// assert_eq!(format_from_path("/data/m42.fits.fz"), ".fits.fz");
/// assert_eq!(format_from_path("frame.jpeg.z"), ".jpg.z");
/// assert_eq!(format_from_path("notes.txt"), ".txt");
/// assert!(dso_models::decode::is_image_name("Light_0001.XISF"));
/// ```
pub fn format_from_path(path: impl AsRef<Path>) -> String {
    let name = path.as_ref().file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    label_for_name(&name)
}

/// Whether a file name is one this module decodes (FITS, `.fits.fz`, XISF, JPEG, PNG, optionally zlib/gzip wrapped), by its
/// name alone: what the CLI uses to walk folders and the driver to accept a camera's locally saved file.
pub fn is_image_name(path: impl AsRef<Path>) -> bool {
    let label = format_from_path(path);
    let inner = WRAPPERS.iter().find_map(|w| label.strip_suffix(w)).unwrap_or(&label);
    inner == ".fits.fz" || IMAGE_EXTENSIONS.iter().any(|(_, l)| *l == inner)
}

/// Image file extensions (lower case) and the format label each stands for.
const IMAGE_EXTENSIONS: &[(&str, &str)] = &[
    ("fits", ".fits"),
    ("fit", ".fits"),
    ("fts", ".fits"),
    ("xisf", ".xisf"),
    ("jpg", ".jpg"),
    ("jpeg", ".jpg"),
    ("png", ".png"),
];

/// The compressed wrappers a file name may end with.
const WRAPPERS: [&str; 2] = [".z", ".gz"];

fn label_for_name(name: &str) -> String {
    for wrapper in WRAPPERS {
        if let Some(stem) = name.strip_suffix(wrapper) {
            let inner = label_for_name(stem);
            return format!("{inner}{wrapper}");
        }
    }
    if name.ends_with(".fz") {
        return ".fits.fz".into();
    }
    let Some((stem, ext)) = name.rsplit_once('.') else { return String::new() };
    match IMAGE_EXTENSIONS.iter().find(|(e, _)| *e == ext) {
        Some((_, label)) => (*label).to_owned(),
        None if !stem.is_empty() => format!(".{ext}"),
        None => String::new(),
    }
}

/// A file's name without its image suffixes, by the rules of [`format_from_path`] (a wrapper, `.fz`, an image
/// extension); other names lose their last extension only.
///
/// ```
/// use dso_models::decode::image_stem;
/// assert_eq!(image_stem("/a/m31.fits.fz"), "m31");
/// assert_eq!(image_stem("b/Light_001.FIT"), "Light_001");
/// assert_eq!(image_stem("frame.jpg.z"), "frame");
/// assert_eq!(image_stem("notes.txt"), "notes");
/// assert_eq!(image_stem("noext"), "noext");
/// ```
pub fn image_stem(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // ASCII lower-casing keeps byte offsets, so `end` indexes `name` too.
    let lower = name.to_ascii_lowercase();
    let mut end = lower.len();
    if let Some(w) = WRAPPERS.iter().find(|w| lower.ends_with(*w)) {
        end -= w.len();
    }
    if lower[..end].ends_with(".fz") {
        end -= 3;
    }
    match lower[..end].rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && IMAGE_EXTENSIONS.iter().any(|(e, _)| *e == ext) => {
            name[..stem.len()].to_owned()
        }
        _ if end < name.len() && end > 0 => name[..end].to_owned(),
        _ => path.file_stem().map_or(name.clone(), |s| s.to_string_lossy().into_owned()),
    }
}

/// Trims, lower-cases and gives the label a leading dot (`"FITS"` → `".fits"`).
pub(super) fn normalise_label(format: &str) -> String {
    let f = format.trim().to_ascii_lowercase();
    if f.is_empty() || f.starts_with('.') {
        f
    } else {
        format!(".{f}")
    }
}

pub(super) fn kind_from_label(label: &str) -> Option<Kind> {
    if label.ends_with(".z") {
        return Some(Kind::Zlib);
    }
    if label.ends_with(".gz") {
        return Some(Kind::Gzip);
    }
    match label {
        ".fits" | ".fit" | ".fts" | ".fits.fz" | ".fz" => Some(Kind::Fits),
        ".jpg" | ".jpeg" => Some(Kind::Jpeg),
        ".png" => Some(Kind::Png),
        ".xisf" => Some(Kind::Xisf),
        _ => None,
    }
}

pub(super) fn describe_label(label: &str) -> &'static str {
    match kind_from_label(label) {
        Some(Kind::Fits) => "FITS",
        Some(Kind::Jpeg) => "JPEG",
        Some(Kind::Png) => "PNG",
        Some(Kind::Xisf) => "XISF",
        Some(Kind::Zlib) => "zlib-compressed",
        Some(Kind::Gzip) => "gzip-compressed",
        None => "an image",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_paths() {
        for (path, label) in [
            ("a.fits", ".fits"),
            ("a.FIT", ".fits"),
            ("a.fts", ".fits"),
            ("a.fits.fz", ".fits.fz"),
            ("a.fz", ".fits.fz"),
            ("a.jpg", ".jpg"),
            ("a.JPEG", ".jpg"),
            ("a.png", ".png"),
            ("a.fits.z", ".fits.z"),
            ("a.png.z", ".png.z"),
            ("a.fits.gz", ".fits.gz"),
            ("a.xyz", ".xyz"),
            ("README", ""),
            (".hidden", ""),
        ] {
            assert_eq!(format_from_path(path), label, "{path}");
        }
    }

    #[test]
    fn labels_are_normalised() {
        assert_eq!(normalise_label(" FITS "), ".fits");
        assert_eq!(normalise_label(".JPG.Z"), ".jpg.z");
        assert_eq!(kind_from_label(".fits.fz"), Some(Kind::Fits));
        assert_eq!(kind_from_label(".jpg.z"), Some(Kind::Zlib));
        assert_eq!(kind_from_label(".xyz"), None);
    }
}
