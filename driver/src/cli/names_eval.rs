//! `dso-detect eval --names LIST`: how well frames labelled by catalogue name are named — the main object found,
//! the first name right, and the precision and recall of names against the labels.
//!
//! `LIST` is a text file of `file<TAB>name[,name…]` lines (the main object first; names as people write them:
//! `M 94`, `NGC 7023`, `Iris Nebula`; file paths relative to the list's folder; `#` starts a comment). Frames are
//! named exactly as `dso-detect detect` names them, plate solve included.

use std::path::{Path, PathBuf};

use anyhow::bail;
use dso_models::registry;
use dso_models::sky::Catalog;

use super::detect::{analyse_file, NamingArgs};
use crate::pipeline::Outputs;
use crate::report::Selection;

/// One labelled frame.
#[derive(Debug)]
struct Labelled {
    path: PathBuf,
    /// Catalogue ids (`NGC 4736`), the main object first.
    names: Vec<String>,
}

fn read_list(list: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut out = Vec::new();
    for line in super::files::read_tab_list(list)? {
        let ([names] | [names, ..]) = &line.fields[..] else {
            bail!("{}: expected 'file<TAB>name[,name…]'", line.at);
        };
        let names: Vec<String> = names
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match Catalog::openngc().lookup(s) {
                Some(o) => Ok(o.catalog_id()),
                None => bail!("{}: '{s}' is not in the OpenNGC catalogue", line.at),
            })
            .collect::<anyhow::Result<_>>()?;
        if names.is_empty() {
            bail!("{}: no name", line.at);
        }
        out.push(Labelled { path: line.path, names });
    }
    Ok(out)
}

/// Runs the name evaluation and prints its table; false when a frame could not be analysed.
pub(super) fn run(list: &Path, detector: &str, confidence: f32, naming: &NamingArgs) -> anyhow::Result<bool> {
    let frames = read_list(list)?;
    let mut d = registry::create(detector).map_err(|e| anyhow::anyhow!("{e}"))?;
    let selection = Selection { confidence, ..Selection::default() };
    let (mut main, mut first, mut right, mut reported, mut labelled, mut failed) = (0, 0, 0, 0, 0, 0);
    println!("| frame | labelled | named (most confident first) | main |");
    println!("|---|---|---|---|");
    for f in &frames {
        let an = match analyse_file(&f.path, d.as_mut(), selection, Outputs::default(), naming) {
            Ok(an) => an,
            Err(e) => {
                eprintln!("{}: error: {e}", f.path.display());
                failed += 1;
                continue;
            }
        };
        let names: Vec<&str> =
            an.report.detections.iter().filter_map(|d| d.identity.as_ref().map(|i| i.catalog_id.as_str())).collect();
        let is_main = names.contains(&f.names[0].as_str());
        main += usize::from(is_main);
        first += usize::from(names.first() == Some(&f.names[0].as_str()));
        right += names.iter().filter(|n| f.names.iter().any(|l| l == *n)).count();
        reported += names.len();
        labelled += f.names.len();
        let shown = if names.is_empty() { "–".to_owned() } else { names.join(", ") };
        let file = f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!("| {file} | {} | {shown} | {} |", f.names.join(", "), if is_main { "yes" } else { "no" });
    }
    let n = frames.len() - failed;
    let ratio = |a: usize, b: usize| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    println!();
    println!("detector {detector}: {n} frames ({failed} failed)");
    println!("main object named: {main}/{n} ({:.2}); first name is the main object: {first}/{n}", ratio(main, n));
    println!(
        "names: precision {:.2} ({right}/{reported} reported names are labelled), recall {:.2} ({right}/{labelled})",
        ratio(right, reported),
        ratio(right, labelled)
    );
    Ok(failed == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_resolve_names_and_refuse_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("names.tsv");
        std::fs::write(&list, "# frames\na.fits\tM 94\nsub/b.fits\tIris Nebula, NGC 4535\n").unwrap();
        let got = read_list(&list).unwrap();
        assert_eq!(got[0].names, vec!["NGC 4736"]);
        assert_eq!(got[1].names, vec!["NGC 7023", "NGC 4535"]);
        assert_eq!(got[1].path, dir.path().join("sub/b.fits"));
        std::fs::write(&list, "a.fits\tNo Such Nebula\n").unwrap();
        assert!(read_list(&list).unwrap_err().to_string().contains("not in the OpenNGC"));
        std::fs::write(&list, "a.fits M 94\n").unwrap();
        assert!(read_list(&list).unwrap_err().to_string().contains("file<TAB>name"));
    }
}
