//! Valid-looking INDI traffic built from the fuzz input: what clients send the device, what the snooped camera and
//! mount send, and what the worker and the plate solver report. Names and values lean towards the ones the device
//! knows (its properties and elements, the default camera and mount, catalogue targets, the limits of its
//! numbers) so that most messages reach a handler, with arbitrary ones mixed in.

use std::time::{Duration, SystemTime};

use dso_detector::device::{Device, Prop};
use dso_detector::indi::{
    DefElements, DefText, DefVector, GetProperties, Message, NewVector, OneBlob, OneNumber, OneSwitch, OneText,
    Permission, PropertyState, SetVector, SwitchState, Values,
};
use dso_detector::naming::{SolveFailed, SolvedReport};
use dso_detector::pipeline::{Analysis, Origin, PipelineError};
use dso_detector::props;
use dso_detector::report::{self, FrameInfo, Report, Selection, TargetReport};
use dso_detector::solver::Solved;
use dso_detector::worker::Outcome;
use dso_models::sky::TargetState;
use dso_plugin_api::Detection;
use libfuzzer_sys::arbitrary::{Result, Unstructured};

pub const NAME: &str = "DSO Detector";
const CAMERA: &str = "CCD Simulator";
const MOUNT: &str = "Telescope Simulator";
const WORDS: &[&str] = &[
    "",
    " ",
    "CCD Simulator",
    "Telescope Simulator",
    "ZWO CCD ASI294MC Pro",
    "M 31",
    "NGC 7023",
    "m94",
    "Horsehead",
    "/tmp",
    "~/images",
    "/tmp/IMAGE_001.fits",
    "frame.jpg",
    "x.fits.fz",
    "NaN",
    "1e308",
    "On",
    "<&>\"'",
    "é\u{feff}\u{0}",
    "\u{1}\u{7f}",
    "  padded  ",
];
/// Property names besides the device's own: the camera's and the mount's, and names of nothing.
const OTHER_PROPS: &[&str] = &[
    "CCD1",
    "CCD_FILE_PATH",
    "UPLOAD_SETTINGS",
    "CCD_EXPOSURE",
    "CCD_INFO",
    "CCD_BINNING",
    "EQUATORIAL_EOD_COORD",
    "TELESCOPE_INFO",
    "SCOPE_INFO",
    "CONNECTION",
    "",
];

/// A string: a known word, a short arbitrary one, or now and then a long run of one character (up to 4 096
/// characters: past every limit the device has — 64-character targets, 128-byte device names, 2 KiB messages —
/// while keeping an input's XML small enough for hundreds of runs a second).
pub fn text(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0u8..=15)? {
        0..=7 => (*u.choose(WORDS)?).to_owned(),
        8..=14 => u.arbitrary::<String>()?.chars().take(200).collect(),
        _ => {
            let c: char = u.arbitrary()?;
            std::iter::repeat_n(c, u.int_in_range(60usize..=4096)?).collect()
        }
    })
}

/// A number: the values that break arithmetic or ranges, an element's limits and their neighbours, or any `f64`.
pub fn number(u: &mut Unstructured, min: f64, max: f64) -> Result<f64> {
    Ok(match u.int_in_range(0u8..=14)? {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => f64::MAX,
        4 => -f64::MAX,
        5 => f64::MIN_POSITIVE,
        6 => -0.0,
        7 => min,
        8 => max,
        9 => max + 1e-9_f64.max(max.abs() * 1e-15),
        10 => min - 1e-9,
        11 => f64::from_bits(u.arbitrary()?),
        _ => min + (max - min) * f64::from(u.int_in_range(0u16..=1000)?) / 1000.0,
    })
}

/// A property name: one of the device's (most often), one of the camera's or mount's, or any.
pub fn prop_name(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0u8..=5)? {
        0..=3 => u.choose(Prop::ALL)?.name().to_owned(),
        4 => (*u.choose(OTHER_PROPS)?).to_owned(),
        _ => text(u)?,
    })
}

fn element_name(u: &mut Unstructured, dev: &Device, prop: Option<Prop>) -> Result<String> {
    if let Some(p) = prop.filter(|_| !u.ratio(1u8, 8).unwrap_or(false)) {
        let names = props::element_names(dev.get(p));
        if !names.is_empty() {
            return Ok((*u.choose(&names)?).to_owned());
        }
    }
    text(u)
}

fn list<T>(u: &mut Unstructured, mut one: impl FnMut(&mut Unstructured) -> Result<T>) -> Result<Vec<T>> {
    (0..u.int_in_range(0u8..=4)?).map(|_| one(u)).collect()
}

fn device_name(u: &mut Unstructured, usual: &str) -> Result<String> {
    if u.ratio(1u8, 10)? {
        text(u)
    } else {
        Ok(usual.to_owned())
    }
}

fn switches(u: &mut Unstructured, dev: &Device, p: Option<Prop>) -> Result<Values> {
    let one = |u: &mut Unstructured| {
        let state = if u.arbitrary()? { SwitchState::On } else { SwitchState::Off };
        Ok(OneSwitch { name: element_name(u, dev, p)?, state })
    };
    Ok(Values::Switch(list(u, one)?))
}

fn numbers(u: &mut Unstructured, dev: &Device, p: Option<Prop>) -> Result<Values> {
    let one = |u: &mut Unstructured| {
        let name = element_name(u, dev, p)?;
        let (min, max) = match p.map(|p| &dev.get(p).elements) {
            Some(DefElements::Number(els)) => {
                els.iter().find(|e| e.name == name).map_or((0.0, 1.0), |e| (e.min, e.max))
            }
            _ => (0.0, 1.0),
        };
        Ok(OneNumber { name, value: number(u, min, max)? })
    };
    Ok(Values::Number(list(u, one)?))
}

fn texts(u: &mut Unstructured, dev: &Device, p: Option<Prop>) -> Result<Values> {
    Ok(Values::Text(list(u, |u| Ok(OneText { name: element_name(u, dev, p)?, value: text(u)? }))?))
}

fn blob(u: &mut Unstructured, name: String) -> Result<OneBlob> {
    let format = (*u.choose(&[".fits", ".fits.fz", ".jpg", ".png", ".xisf", ".fits.z", "", ".stream"])?).to_owned();
    let data: Vec<u8> = (0..u.int_in_range(0usize..=48)?).map(|_| u.arbitrary()).collect::<Result<_>>()?;
    Ok(OneBlob { name, size: data.len() as u64, format, data })
}

/// A client's `newXXXVector`, mostly for the device's own properties, of any kind.
pub fn client_new(u: &mut Unstructured, dev: &Device) -> Result<Message> {
    let name = prop_name(u)?;
    let p = Prop::by_name(&name);
    let values = match u.int_in_range(0u8..=3)? {
        0 => switches(u, dev, p)?,
        1 => numbers(u, dev, p)?,
        2 => texts(u, dev, p)?,
        _ => Values::Blob(list(u, |u| {
            let name = element_name(u, dev, p)?;
            blob(u, name)
        })?),
    };
    Ok(Message::New(NewVector { device: device_name(u, NAME)?, name, timestamp: None, values }))
}

/// A client's change to one standard switch: `CONNECTION`, `DEBUG` or a `CONFIG_PROCESS` action.
pub fn client_switch(u: &mut Unstructured, p: Prop, dev: &Device) -> Result<Message> {
    let names = props::element_names(dev.get(p));
    let on = (*u.choose(&names)?).to_owned();
    let values = Values::Switch(vec![OneSwitch { name: on, state: SwitchState::On }]);
    Ok(Message::New(NewVector { device: NAME.into(), name: p.name().into(), timestamp: None, values }))
}

/// `ACTIVE_DEVICES`: the camera and the mount to snoop.
pub fn active_devices(u: &mut Unstructured) -> Result<Message> {
    let pick = |u: &mut Unstructured, usual: &str| -> Result<String> {
        Ok(match u.int_in_range(0u8..=3)? {
            0 => usual.to_owned(),
            1 => String::new(),
            _ => text(u)?,
        })
    };
    let mut values = vec![OneText { name: "ACTIVE_CCD".into(), value: pick(u, CAMERA)? }];
    if u.arbitrary()? {
        values.push(OneText { name: "ACTIVE_TELESCOPE".into(), value: pick(u, MOUNT)? });
    }
    let values = Values::Text(values);
    Ok(Message::New(NewVector { device: NAME.into(), name: "ACTIVE_DEVICES".into(), timestamp: None, values }))
}

fn state(u: &mut Unstructured) -> Result<Option<PropertyState>> {
    let all = [PropertyState::Idle, PropertyState::Ok, PropertyState::Busy, PropertyState::Alert];
    Ok(if u.ratio(1u8, 8)? { None } else { Some(*u.choose(&all)?) })
}

/// What the server forwards from the snooped camera or mount: images, saved-file paths, upload folders, exposure
/// states, optics and pointing, and anything else.
pub fn snooped_set(u: &mut Unstructured, dev: &Device) -> Result<Message> {
    let camera = props::text_value(dev.get(Prop::ActiveDevices), "ACTIVE_CCD").to_owned();
    let mount = props::text_value(dev.get(Prop::ActiveDevices), "ACTIVE_TELESCOPE").to_owned();
    let num = |u: &mut Unstructured, names: &[&str], lo: f64, hi: f64| -> Result<Values> {
        let one = |u: &mut Unstructured| Ok(OneNumber { name: (*u.choose(names)?).into(), value: number(u, lo, hi)? });
        Ok(Values::Number(list(u, one)?))
    };
    let one_text = |name: &str, value: String| Values::Text(vec![OneText { name: name.into(), value }]);
    let (device, name, values) = match u.int_in_range(0u8..=9)? {
        0..=2 => (camera, "CCD1", Values::Blob(list(u, |u| blob(u, "CCD1".into()))?)),
        3 => (camera, "CCD_FILE_PATH", one_text("FILE_PATH", text(u)?)),
        4 => (camera, "UPLOAD_SETTINGS", one_text("UPLOAD_DIR", text(u)?)),
        5 => (camera, "CCD_EXPOSURE", num(u, &["CCD_EXPOSURE_VALUE"], 0.0, 3600.0)?),
        6 => (camera, *u.choose(&["CCD_INFO", "CCD_BINNING"])?, num(u, &["CCD_PIXEL_SIZE_X", "HOR_BIN"], 0.0, 30.0)?),
        7 => (mount, "EQUATORIAL_EOD_COORD", num(u, &["RA", "DEC"], -90.0, 90.0)?),
        8 => {
            let names = ["TELESCOPE_FOCAL_LENGTH", "FOCAL_LENGTH"];
            (mount, *u.choose(&["TELESCOPE_INFO", "SCOPE_INFO"])?, num(u, &names, 0.0, 5000.0)?)
        }
        _ => (text(u)?, "CCD1", Values::Blob(list(u, |u| blob(u, "CCD1".into()))?)),
    };
    let set = SetVector {
        device: device_name(u, &device)?,
        name: if u.ratio(1u8, 16)? { prop_name(u)? } else { name.to_owned() },
        state: state(u)?,
        timeout: None,
        timestamp: Some(SystemTime::now()),
        message: None,
        values,
    };
    Ok(Message::Set(set))
}

/// A snooped definition: the camera's `UPLOAD_SETTINGS` (its upload folder), or any text vector.
pub fn snooped_def(u: &mut Unstructured, dev: &Device) -> Result<Message> {
    let camera = props::text_value(dev.get(Prop::ActiveDevices), "ACTIVE_CCD").to_owned();
    let els = list(u, |u| {
        let name = if u.arbitrary()? { "UPLOAD_DIR".to_owned() } else { text(u)? };
        Ok(DefText { name, label: None, value: text(u)? })
    })?;
    Ok(Message::Def(DefVector {
        device: device_name(u, &camera)?,
        name: if u.arbitrary()? { "UPLOAD_SETTINGS".into() } else { prop_name(u)? },
        label: None,
        group: None,
        state: state(u)?.unwrap_or_default(),
        perm: Permission::ReadWrite,
        timeout: None,
        timestamp: None,
        message: None,
        elements: DefElements::Text(els),
    }))
}

/// `getProperties` as a client (or the server) sends it.
pub fn get_properties(u: &mut Unstructured) -> Result<Message> {
    let device = match u.int_in_range(0u8..=3)? {
        0 | 1 => None,
        2 => Some(NAME.to_owned()),
        _ => Some(text(u)?),
    };
    let name = if u.arbitrary()? { Some(prop_name(u)?) } else { None };
    Ok(Message::GetProperties(GetProperties { version: Some("1.7".into()), device, name }))
}

/// A finished analysis as the pipeline makes it: the selection applied to arbitrary boxes, a target maybe.
fn analysis(u: &mut Unstructured, source: &Origin) -> Result<Analysis> {
    let (w, h) = (u.int_in_range(1usize..=8192)?, u.int_in_range(1usize..=8192)?);
    let boxes = list(u, |u| {
        let mut xywh = [0f32; 4];
        for v in &mut xywh {
            *v = f32::from(u.int_in_range(-100i16..=9000)?) * 0.9;
        }
        let [x, y, width, height] = xywh;
        Ok(Detection {
            x,
            y,
            width,
            height,
            label: text(u)?.chars().take(40).collect(),
            confidence: f32::from(u.int_in_range(0u16..=1000)?) / 1000.0,
        })
    })?;
    let selection = Selection { confidence: 0.1, max_detections: 20 };
    let detections = report::select(boxes, w, h, selection);
    let frame = FrameInfo {
        width: w,
        height: h,
        source: source.to_string(),
        format: ".fits".into(),
        timestamp: "2026-12-03T01:02:03".into(),
    };
    let mut report = Report::new(frame, "naive", f64::from(u.int_in_range(0u32..=3_600_000)?), &detections);
    if u.arbitrary()? {
        let states = [TargetState::Captured, TargetState::InField, TargetState::NotInField, TargetState::Unknown];
        let name: String = text(u)?.chars().take(64).collect();
        report.target = Some(TargetReport { name, catalog_id: None, state: *u.choose(&states)? });
    }
    if u.ratio(1u8, 4)? {
        report.field_note = Some("no WCS or pointing".into());
    }
    let picture = |u: &mut Unstructured| -> Result<Option<Vec<u8>>> {
        Ok(if u.ratio(1u8, 4)? { Some(vec![0xff, 0xd8, u.arbitrary()?]) } else { None })
    };
    Ok(Analysis {
        report,
        detections,
        annotated: picture(u)?,
        heatmap: picture(u)?,
        heatmap_values: None,
        pending: None,
        quality: None,
    })
}

/// What the worker reports about the frame in work: progress, or the end (an analysis or an error).
pub fn worker_news(u: &mut Unstructured, source: &Origin) -> Result<(Outcome, bool)> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => (Outcome::Progress { source: source.clone(), percent: u.int_in_range(0u8..=100)? }, false),
        1 => {
            let why = PipelineError::Detector { detector: "naive".into(), source: dso_plugin_api::Error::new("odd") };
            (Outcome::Finished { source: source.clone(), detector: "naive".into(), result: Err(why) }, true)
        }
        _ => {
            let a = analysis(u, source)?;
            (Outcome::Finished { source: source.clone(), detector: "naive".into(), result: Ok(Box::new(a)) }, true)
        }
    })
}

/// A plate solve's end: names for an earlier frame, or why there are none (blind or with hints).
pub fn solved(u: &mut Unstructured, source: &Origin) -> Result<Solved> {
    let result = if u.arbitrary()? {
        let mut a = analysis(u, source)?;
        a.report.update = Some("names");
        Ok(SolvedReport { report: a.report, solved: None, elapsed: Duration::from_millis(1500) })
    } else {
        Err(SolveFailed::NoWcs)
    };
    Ok(Solved { source: source.to_string(), blind: u.arbitrary()?, result })
}
