//! Writes the man pages of `dso-detect` (one for the command, one per subcommand: `dso-detect-detect.1`, …) from its
//! clap definition, so they never drift from `--help`. `installers/package.sh` runs it for the Debian package:
//! `cargo run --release -p dso-detector --example manpages -- OUT_DIR`.

use std::path::PathBuf;

use clap::CommandFactory;

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(std::env::args_os().nth(1).unwrap_or_else(|| "target/man".into()));
    std::fs::create_dir_all(&out)?;
    let cmd = dso_detector::cli::Cli::command();
    // The date is the package's, not the build's, so two builds of one version give the same pages.
    let date = option_env!("DSO_MAN_DATE").unwrap_or("2026-12-03");
    // The crate description (clap's `about`) speaks of the driver too; the page is the CLI's.
    let top = cmd.clone().about("find deep-sky objects in astronomical images").version(env!("CARGO_PKG_VERSION"));
    write_page(&out, top, "dso-detect", date)?;
    for sub in cmd.get_subcommands() {
        // clap names are `&'static str` without its `string` feature; a handful of short strings, once.
        let name: &'static str = Box::leak(format!("dso-detect-{}", sub.get_name()).into_boxed_str());
        write_page(&out, sub.clone().name(name).version(env!("CARGO_PKG_VERSION")), name, date)?;
    }
    Ok(())
}

fn write_page(out: &std::path::Path, cmd: clap::Command, name: &str, date: &str) -> std::io::Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).date(date).render(&mut buf)?;
    let path = out.join(format!("{name}.1"));
    std::fs::write(&path, buf)?;
    eprintln!("{}", path.display());
    Ok(())
}
