//! What each property looks like when defined: label, group, permission, rule and elements, keyed by [`Prop`]
//! (libindi's `initProperties`, where every `fillXXXVector` call sits together). The table of properties
//! (`table.rs`) says when each is defined and saved; this says what a client sees.

use dso_models::{annotate, registry};

use crate::indi::{DefVector, Permission, SwitchRule};
use crate::props::{self, num};
use crate::report;

use super::elements::{
    active_devices, annotated, config_process, connection, debug, driver_info, heatmap, identify, image_upload,
    outputs, quality, results, settings, solver, stats, target, target_state, verdict,
};
use super::table::Prop;
use super::{AUX_INTERFACE, DEFAULT_CCD, DEFAULT_NAME};

const MAIN: &str = "Main Control";
const OPTIONS: &str = "Options";
const GENERAL: &str = "General Info";
const DETECTION: &str = "Detection";
const RESULTS: &str = "Results";
const IDENTIFY: &str = "Identification";
const QUALITY: &str = "Quality";

/// The vector of property `p` of device `n`, with its factory values.
pub(super) fn define(p: Prop, n: &str) -> DefVector {
    use Permission::{ReadOnly, ReadWrite, WriteOnly};
    let name = p.name();
    match p {
        Prop::Connection => props::switch(
            n,
            name,
            "Connection",
            MAIN,
            SwitchRule::OneOfMany,
            &[(connection::CONNECT.name, "Connect", false), (connection::DISCONNECT.name, "Disconnect", true)],
        ),
        Prop::DriverInfo => props::text(
            n,
            name,
            "Driver Info",
            GENERAL,
            ReadOnly,
            &[
                (driver_info::NAME.name, "Name", DEFAULT_NAME),
                (driver_info::EXEC.name, "Exec", "indi_dso_detector"),
                (driver_info::VERSION.name, "Version", env!("CARGO_PKG_VERSION")),
                (driver_info::INTERFACE.name, "Interface", &AUX_INTERFACE.to_string()),
            ],
        ),
        Prop::Debug => props::switch(
            n,
            name,
            "Debug",
            OPTIONS,
            SwitchRule::OneOfMany,
            &[(debug::ENABLE.name, "Enable", false), (debug::DISABLE.name, "Disable", true)],
        ),
        Prop::ConfigProcess => props::switch(
            n,
            name,
            "Configuration",
            OPTIONS,
            SwitchRule::AtMostOne,
            &[
                (config_process::LOAD.name, "Load", false),
                (config_process::SAVE.name, "Save", false),
                (config_process::DEFAULT.name, "Default", false),
                (config_process::PURGE.name, "Purge", false),
            ],
        ),
        Prop::ActiveDevices => props::text(
            n,
            name,
            "Snoop devices",
            OPTIONS,
            ReadWrite,
            &[
                (active_devices::CCD.name, "CCD", DEFAULT_CCD),
                (active_devices::TELESCOPE.name, "Telescope", "Telescope Simulator"),
            ],
        ),
        Prop::Detector => {
            let detectors = registry::detectors();
            let els: Vec<(String, String, bool)> =
                detectors.iter().map(|d| (d.element(), d.label.clone(), d.name == registry::default_name())).collect();
            let refs: Vec<(&str, &str, bool)> = els.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), *c)).collect();
            props::switch(n, name, "Detector", DETECTION, SwitchRule::OneOfMany, &refs)
        }
        Prop::Settings => props::number(
            n,
            name,
            "Settings",
            DETECTION,
            ReadWrite,
            vec![
                num(
                    settings::CONFIDENCE.name,
                    "Min confidence",
                    "%.2f",
                    0.0,
                    1.0,
                    0.05,
                    report::DEFAULT_CONFIDENCE as f64,
                ),
                num(
                    settings::MAX_DETECTIONS.name,
                    "Max detections",
                    "%.0f",
                    1.0,
                    500.0,
                    1.0,
                    report::DEFAULT_MAX_DETECTIONS as f64,
                ),
                num(
                    settings::PICTURE_SIZE.name,
                    "Picture size (px, 0 = full)",
                    "%.0f",
                    0.0,
                    65535.0,
                    256.0,
                    annotate::DEFAULT_MAX_SIDE as f64,
                ),
            ],
        ),
        Prop::Outputs => props::switch(
            n,
            name,
            "Outputs",
            DETECTION,
            SwitchRule::AnyOfMany,
            &[(outputs::ANNOTATED_IMAGE.name, "Annotated image", false), (outputs::HEATMAP.name, "Heat map", false)],
        ),
        Prop::ImageUpload => {
            props::blob(n, name, "Analyse image", DETECTION, WriteOnly, &[(image_upload::IMAGE.name, "Image")])
        }
        Prop::Identify => props::switch(
            n,
            name,
            "Identify",
            IDENTIFY,
            SwitchRule::AnyOfMany,
            &[(identify::NAMES.name, "Name objects", true), (identify::PLATE_SOLVE.name, "Plate solve", true)],
        ),
        Prop::Solver => props::number(
            n,
            name,
            "Plate solver",
            IDENTIFY,
            ReadWrite,
            // The settings file's `[solver] timeout_s` is the default; a client's value (saved in the INDI
            // configuration) wins over it.
            vec![num(
                solver::TIMEOUT.name,
                "Time limit (s)",
                "%.0f",
                5.0,
                600.0,
                5.0,
                dso_models::settings::get().solver.timeout_s.clamp(5.0, 600.0),
            )],
        ),
        Prop::Target => props::text(n, name, "Target", IDENTIFY, ReadWrite, &[(target::NAME.name, "Target", "")]),
        Prop::TargetState => props::text(
            n,
            name,
            "Target state",
            IDENTIFY,
            ReadOnly,
            &[(target_state::STATE.name, "State", "no frame yet"), (target_state::DETAIL.name, "Detail", "")],
        ),
        Prop::Results => props::text(
            n,
            name,
            "Results",
            RESULTS,
            ReadOnly,
            &[(results::JSON.name, "JSON", ""), (results::SUMMARY.name, "Summary", "no frame yet")],
        ),
        Prop::Stats => props::number(
            n,
            name,
            "Statistics",
            RESULTS,
            ReadOnly,
            vec![
                num(stats::COUNT.name, "Objects", "%.0f", 0.0, 1e6, 1.0, 0.0),
                num(stats::MAX_CONFIDENCE.name, "Best confidence", "%.2f", 0.0, 1.0, 0.0, 0.0),
                num(stats::LATENCY_MS.name, "Latency (ms)", "%.0f", 0.0, 1e9, 0.0, 0.0),
                num(stats::FRAMES_PROCESSED.name, "Frames processed", "%.0f", 0.0, 1e12, 1.0, 0.0),
                num(stats::FRAMES_DROPPED.name, "Frames dropped", "%.0f", 0.0, 1e12, 1.0, 0.0),
                num(stats::WIDTH.name, "Width", "%.0f", 0.0, 1e6, 1.0, 0.0),
                num(stats::HEIGHT.name, "Height", "%.0f", 0.0, 1e6, 1.0, 0.0),
            ],
        ),
        Prop::Annotated => {
            props::blob(n, name, "Annotated image", RESULTS, ReadOnly, &[(annotated::IMAGE.name, "Annotated image")])
        }
        Prop::Heatmap => props::blob(n, name, "Heat map", RESULTS, ReadOnly, &[(heatmap::IMAGE.name, "Heat map")]),
        Prop::Quality => props::number(
            n,
            name,
            "Frame quality",
            QUALITY,
            ReadOnly,
            vec![
                num(quality::BACKGROUND.name, "Sky background (ADU)", "%.1f", 0.0, 65535.0, 0.0, 0.0),
                num(quality::NOISE.name, "Noise (ADU)", "%.2f", 0.0, 65535.0, 0.0, 0.0),
                num(quality::STARS.name, "Stars", "%.0f", 0.0, 1e7, 1.0, 0.0),
                num(quality::FWHM.name, "FWHM (px)", "%.2f", 0.0, 1000.0, 0.0, 0.0),
                num(quality::ELONGATION.name, "Elongation", "%.2f", 0.0, 100.0, 0.0, 0.0),
                num(quality::TRAILS.name, "Trails", "%.0f", 0.0, 100.0, 1.0, 0.0),
            ],
        ),
        Prop::Verdict => props::text(
            n,
            name,
            "Verdict",
            QUALITY,
            ReadOnly,
            &[(verdict::VERDICT.name, "Verdict", "no frame yet"), (verdict::REASONS.name, "Reasons", "")],
        ),
    }
}
