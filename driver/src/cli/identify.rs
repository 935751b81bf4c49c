//! `dso-detect identify`: where a frame points and which catalogued objects it contains — the frame's own WCS, else
//! a plate solve hinted by its pointing, else the pointing itself (rough) — without running a detector.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use dso_models::decode;
use dso_models::sky::{identify::objects_in, Catalog};

use super::detect::NamingArgs;
use super::files;
use crate::naming;
use crate::pipeline::PipelineError;

/// Arguments of `dso-detect identify`.
#[derive(Args, Debug)]
pub struct IdentifyArgs {
    #[command(flatten)]
    naming: NamingArgs,
    /// Most objects listed per frame, the most prominent first.
    #[arg(long, default_value_t = 15)]
    max_objects: usize,
    /// Image files or folders of images.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

pub(super) fn run(a: &IdentifyArgs) -> anyhow::Result<bool> {
    let mut ok = true;
    for path in files::expand(&a.inputs) {
        if let Err(e) = one(a, &path) {
            eprintln!("{}: error: {e}", path.display());
            ok = false;
        }
    }
    Ok(ok)
}

/// One frame; the error (a file that cannot be read or decoded) is the same as `dso-detect detect`'s.
fn one(a: &IdentifyArgs, path: &std::path::Path) -> Result<(), PipelineError> {
    let bytes = std::fs::read(path)?;
    let frame = decode::decode(&bytes, &decode::format_from_path(path), &decode::Limits::default())?;
    let placement = naming::place(&frame, &a.naming.naming());
    if let Some(note) = &placement.note {
        println!("{}: {note}", path.display());
    }
    let start = Instant::now();
    let field = match (placement.wants_solve, placement.field) {
        (true, rough) => match naming::solve_field(&frame, placement.hints.as_ref(), &a.naming.solver()) {
            Ok((field, _)) => Some(field),
            Err(e) => {
                println!("{}: {e}", path.display());
                rough
            }
        },
        (false, field) => field,
    };
    let Some(field) = field else {
        println!("{}: not placed on the sky (no WCS, no pointing, no plate solution)", path.display());
        return Ok(());
    };
    let f = field.summary();
    println!(
        "{}: RA {:.4}° Dec {:+.4}°, {:.3}″/px, rotation {:.1}°, {:.1}′ × {:.1}′, by {} ({:.1} s)",
        path.display(),
        f.ra,
        f.dec,
        f.scale,
        f.rotation,
        f.width_arcmin,
        f.height_arcmin,
        f.solved_by.as_str(),
        start.elapsed().as_secs_f64()
    );
    for o in objects_in(&field, Catalog::openngc()).iter().take(a.max_objects) {
        let i = &o.identity;
        let mag = i.magnitude.map(|m| format!("mag {m:.1}")).unwrap_or_else(|| "mag –".into());
        println!("  {:<28} {:<20} {:<9} at ({:.0}, {:.0}), {:.0} px", i.label(), i.type_name, mag, o.x, o.y, o.size);
    }
    Ok(())
}
