//! The device (`dso_detector::device::Device`) driven by sequences of valid-looking messages, structure-aware: the
//! input chooses each step — a client's `getProperties` or `newXXXVector` for the device's properties with
//! arbitrary element names and values (NaN, infinities, huge numbers, long texts), `CONNECTION`, `DEBUG`,
//! `CONFIG_PROCESS` actions, `ACTIVE_DEVICES` changes; the snooped camera's and mount's `def`/`set` vectors with
//! small BLOB payloads; pings, junk bytes; a configuration file left by an earlier session; the worker's and the
//! plate solver's reports; raw bytes (the seeds are real traffic recorded through indiserver, fed this way). Messages
//! go the driver's own way: serialised, decoded by `indi::Decoder` and routed by `run::dispatch`, with the event loop's
//! bookkeeping (one waiting frame, replaced frames counted as dropped). Frames are never analysed (the worker is
//! simulated), so an input of a few hundred steps takes tens of milliseconds.
//!
//! Checked after every step, on everything the device emits: it serialises to XML that the driver's decoder reads
//! back as the same message; it concerns this device (or, for snoop requests, another named one); switch rules
//! hold; every number is finite and within its element's range; names and targets within their limits; messages
//! carry a level prefix, debug ones only while `DEBUG` is on, and stay short; detection properties are defined only
//! while connected and deleted only when not; a property goes Alert only with an `[ERROR]` message in the same
//! step (the target state and the quality verdict excepted: Alert there is a finding, not a failure). After a
//! `CONFIG_SAVE`, the file loads and holds the saved properties' values; at the end, `CONFIG_LOAD` right after a
//! save changes no value.
#![no_main]

#[path = "device_messages/generate.rs"]
mod generate;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use dso_detector::device::{Device, Kind, Prop, MAX_DEVICE_NAME};
use dso_detector::indi::{
    to_xml, Decoder, DefElements, Message, NewVector, PropertyState, SwitchRule, SwitchState, Values,
};
use dso_detector::pipeline::Origin;
use dso_detector::{config, props, run};
use generate::NAME;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Longest device message accepted: the longest the driver writes on purpose (the chained-camera warning with two
/// 128-byte names) is about 700 bytes.
const MAX_MESSAGE: usize = 2048;

fn config_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("dso-fuzz-device-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir.join("DSO Detector_config.xml")
    })
}

/// The step that pushes bytes as they are (`fuzz/seeds.py` writes real traffic as a run of these: this byte, the
/// length as two big-endian bytes, the bytes).
const RAW: u8 = 16;
/// Most steps in one input: a recorded session of about a hundred messages fits.
const MAX_STEPS: usize = 256;

/// The device and what the event loop keeps around it.
struct Harness {
    dev: Device,
    decoder: Decoder,
    /// The frame waiting in the worker's slot, and the one in work.
    waiting: Option<Origin>,
    in_work: Option<Origin>,
}

impl Harness {
    /// A message as it arrives on stdin.
    fn send(&mut self, msg: &Message) {
        if let Ok(xml) = to_xml(msg) {
            self.decoder.push(&xml);
        }
    }

    /// The worker takes the waiting frame, or reports on the one in work.
    fn worker(&mut self, u: &mut Unstructured) -> Result<()> {
        if let Some(source) = self.waiting.take() {
            self.in_work = Some(source.clone());
            self.dev.worker_outcome(dso_detector::worker::Outcome::Started { source });
        } else if let Some(source) = self.in_work.clone() {
            let (news, finished) = generate::worker_news(u, &source)?;
            if finished {
                self.in_work = None;
            }
            self.dev.worker_outcome(news);
        }
        Ok(())
    }

    /// One step chosen by the input, then what the event loop does after each event.
    fn step(&mut self, u: &mut Unstructured) -> Result<()> {
        let before = self.dev.is_connected();
        let op = u.int_in_range(0u8..=RAW)?;
        match op {
            0 | 1 => self.send(&generate::get_properties(u)?),
            2..=4 => self.send(&generate::client_new(u, &self.dev)?),
            5 => self.send(&generate::client_switch(u, Prop::Connection, &self.dev)?),
            6 => {
                let p = *u.choose(&[Prop::Debug, Prop::ConfigProcess])?;
                self.send(&generate::client_switch(u, p, &self.dev)?);
            }
            7 => self.send(&generate::active_devices(u)?),
            8..=10 => self.send(&generate::snooped_set(u, &self.dev)?),
            11 => self.send(&generate::snooped_def(u, &self.dev)?),
            12 => {
                let junk: Vec<u8> = (0..u.int_in_range(1usize..=24)?).map(|_| u.arbitrary()).collect::<Result<_>>()?;
                self.decoder.push(if u.arbitrary()? { &b"<pingRequest uid=\"x\"/>"[..] } else { &junk[..] });
            }
            13 => self.worker(u)?,
            14 => {
                let source = self.in_work.clone().unwrap_or(Origin::Upload);
                self.dev.solved(generate::solved(u, &source)?);
            }
            RAW => {
                // Recorded traffic (the seeds): bytes as indiserver sent them.
                let n = u.int_in_range(0u16..=u16::MAX)?;
                self.decoder.push(u.bytes(usize::from(n))?);
            }
            _ => {
                // A configuration file an earlier session (or a hand) left: what the device would save, or any
                // messages, read at the first getProperties, on connecting and on CONFIG_LOAD.
                let items = (0..u.int_in_range(0u8..=6)?)
                    .filter_map(|_| match generate::client_new(u, &self.dev) {
                        Ok(Message::New(n)) => Some(n),
                        _ => None,
                    })
                    .collect::<Vec<NewVector>>();
                let _ = std::fs::write(config_path(), config::render(&items));
            }
        }
        while let Some(msg) = self.decoder.next_message() {
            run::dispatch(&mut self.dev, msg, Instant::now());
        }
        for job in self.dev.jobs.drain(..).collect::<Vec<_>>() {
            if self.waiting.replace(job.source.origin).is_some() {
                self.dev.frame_dropped();
            }
        }
        self.dev.solves.clear();
        // One message a step, except raw bytes, junk and configuration files (which may hold several).
        self.check(before, op <= 11)
    }

    /// The checks on what one step made the device say.
    fn check(&mut self, connected_before: bool, one_message: bool) -> Result<()> {
        let out = std::mem::take(&mut self.dev.outbox);
        // Connected or not as the messages go: a step of raw bytes may connect and disconnect; each change is
        // published (CONNECTION) before the definitions or deletions it causes.
        let mut connected = connected_before;
        let said = |prefix: &str| {
            out.iter().any(
                |m| matches!(m, Message::Message(t) if t.message.as_deref().is_some_and(|s| s.starts_with(prefix))),
            )
        };
        let error_said = said("[ERROR] ");
        for m in &out {
            round_trip(m);
            match m {
                Message::Def(d) => {
                    let p = ours(&d.device, &d.name);
                    assert!(p.kind() == Kind::Standard || connected, "{} defined while disconnected", d.name);
                    self.elements_hold(p, &elements_as_values(&d.elements));
                }
                Message::Set(s) => {
                    let p = ours(&s.device, &s.name);
                    if let (Prop::Connection, Values::Switch(v)) = (p, &s.values) {
                        connected = v.iter().any(|e| e.name == "CONNECT" && e.state == SwitchState::On);
                    }
                    self.elements_hold(p, &s.values);
                    let verdicts = [Prop::Quality, Prop::Verdict, Prop::TargetState];
                    if s.state == Some(PropertyState::Alert) && !verdicts.contains(&p) {
                        assert!(error_said, "{} went Alert without an [ERROR] message: {out:?}", s.name);
                    }
                }
                Message::DelProperty(d) => {
                    let p = ours(&d.device, d.name.as_deref().expect("deletes one property"));
                    assert!(p.kind() == Kind::Detection && !connected, "{p:?} deleted while connected");
                }
                Message::Message(t) => {
                    assert_eq!(t.device.as_deref(), Some(NAME));
                    let text = t.message.as_deref().expect("a message has text");
                    let start: String = text.chars().take(200).collect();
                    assert!(text.len() <= MAX_MESSAGE, "a {} byte message: {start}…", text.len());
                    let levels = ["[INFO] ", "[WARNING] ", "[ERROR] ", "[DEBUG] "];
                    assert!(levels.iter().any(|l| text.starts_with(l)), "no level: {text}");
                    if text.starts_with("[DEBUG] ") {
                        assert!(props::is_on(self.dev.get(Prop::Debug), "ENABLE"), "debug message with DEBUG off");
                    }
                }
                Message::GetProperties(g) => snooped_name(g.device.as_deref()),
                Message::EnableBlob(e) => snooped_name(Some(&e.device)),
                Message::PingReply { .. } => {}
                Message::New(_) | Message::PingRequest { .. } => panic!("the driver sent {m:?}"),
            }
        }
        // The file holds what the device held when it saved: the state now, when the step was that one message.
        if one_message && said("[INFO] configuration saved") {
            let loaded = config::load(config_path()).expect("the driver reads back the file it saved");
            assert_eq!(format!("{loaded:?}"), format!("{:?}", saved_items(&self.dev)), "the file differs");
        }
        Ok(())
    }

    /// Every value published for property `p` is one of its elements, and holds the property's limits.
    fn elements_hold(&self, p: Prop, values: &Values) {
        let def = self.dev.get(p);
        let known = props::element_names(def);
        match values {
            Values::Number(v) => {
                let DefElements::Number(els) = &def.elements else { panic!("{p:?} published numbers") };
                for n in v {
                    let e = els.iter().find(|e| e.name == n.name).expect("a number of the property");
                    let inside = n.value.is_finite() && (e.min >= e.max || (e.min..=e.max).contains(&n.value));
                    assert!(inside, "{}.{} = {} outside {}..{}", p.name(), n.name, n.value, e.min, e.max);
                }
            }
            Values::Switch(v) => {
                let DefElements::Switch(rule, _) = &def.elements else { panic!("{p:?} published switches") };
                let on = v.iter().filter(|s| s.state == SwitchState::On).count();
                match rule {
                    SwitchRule::OneOfMany => assert_eq!(on, 1, "{} must have one switch on: {v:?}", p.name()),
                    SwitchRule::AtMostOne => assert!(on <= 1, "{} has {on} switches on", p.name()),
                    SwitchRule::AnyOfMany => {}
                }
                assert!(p != Prop::ConfigProcess || on == 0, "CONFIG_PROCESS buttons stay off");
                assert!(v.iter().all(|s| known.contains(&s.name.as_str())));
            }
            Values::Text(v) => {
                for t in v {
                    assert!(known.contains(&t.name.as_str()), "{}.{} is not an element", p.name(), t.name);
                    if p == Prop::ActiveDevices {
                        assert!(t.value.len() <= MAX_DEVICE_NAME, "a {} byte device name", t.value.len());
                    }
                    if p == Prop::Target {
                        assert!(t.value.chars().count() <= 64, "a {} character target", t.value.chars().count());
                    }
                }
            }
            Values::Blob(v) => assert!(v.iter().all(|b| known.contains(&b.name.as_str()))),
            Values::Light(_) => panic!("{p:?} published lights"),
        }
    }
}

/// The property of this device a message names.
fn ours(device: &str, name: &str) -> Prop {
    assert_eq!(device, NAME, "a message about another device");
    Prop::by_name(name).unwrap_or_else(|| panic!("{name} is not a property of the device"))
}

/// A snoop request names another device, within the length the device accepts.
fn snooped_name(device: Option<&str>) {
    let d = device.expect("snoop requests name a device");
    assert!(!d.is_empty() && d != NAME && d.len() <= MAX_DEVICE_NAME, "snooping {d:?}");
    assert!(!d.chars().any(char::is_control), "snooping {d:?}: XML makes its newlines and tabs spaces");
}

fn elements_as_values(e: &DefElements) -> Values {
    let def = dso_detector::indi::DefVector {
        device: NAME.into(),
        name: String::new(),
        label: None,
        group: None,
        state: PropertyState::Idle,
        perm: dso_detector::indi::Permission::ReadOnly,
        timeout: None,
        timestamp: None,
        message: None,
        elements: e.clone(),
    };
    props::set_of(&def, None).values
}

/// What the configuration file should hold: the saved properties' values, as `newXXXVector`s.
fn saved_items(dev: &Device) -> Vec<NewVector> {
    Prop::ALL
        .iter()
        .filter(|p| p.saved())
        .map(|p| NewVector {
            device: NAME.into(),
            name: p.name().into(),
            timestamp: None,
            values: props::set_of(dev.get(*p), None).values,
        })
        .collect()
}

/// The message as a client reads it: serialised, then decoded by the driver's own decoder.
fn round_trip(m: &Message) {
    let xml = to_xml(m).expect("every message the device emits serialises");
    let mut decoder = Decoder::new();
    decoder.push(&xml);
    decoder.finish();
    let back = decoder.next_message().expect("one message").unwrap_or_else(|e| {
        panic!("the driver's decoder refuses what it wrote: {e}\n{}", String::from_utf8_lossy(&xml))
    });
    assert!(decoder.next_message().is_none(), "one message became several");
    // XML makes tabs and newlines in attributes spaces (a message's text from a multi-line error, say): compare
    // with them as spaces everywhere.
    let shown = |m: Message| format!("{:?}", normalise(m)).replace("\\n", " ").replace("\\r", " ").replace("\\t", " ");
    assert_eq!(shown(m.clone()), shown(back), "changed on the wire");
}

/// What the wire keeps: timestamps to the second, element texts trimmed.
fn normalise(m: Message) -> Message {
    let second = |t: Option<std::time::SystemTime>| {
        t.map(|t| dso_detector::indi::parse_timestamp(&dso_detector::indi::format_timestamp(t)).expect("a timestamp"))
    };
    let trim = |v: &mut Values| {
        if let Values::Text(els) = v {
            els.iter_mut().for_each(|e| e.value = e.value.trim().to_owned());
        }
    };
    match m {
        Message::Def(mut d) => {
            d.timestamp = second(d.timestamp);
            if let DefElements::Text(els) = &mut d.elements {
                els.iter_mut().for_each(|e| e.value = e.value.trim().to_owned());
            }
            Message::Def(d)
        }
        Message::Set(mut s) => {
            s.timestamp = second(s.timestamp);
            trim(&mut s.values);
            Message::Set(s)
        }
        Message::DelProperty(mut d) => {
            d.timestamp = second(d.timestamp);
            Message::DelProperty(d)
        }
        Message::Message(mut t) => {
            t.timestamp = second(t.timestamp);
            Message::Message(t)
        }
        other => other,
    }
}

/// After the sequence: save, then load; no saved value may change.
fn save_then_load(h: &mut Harness) {
    if h.dev.save_config().is_err() {
        return;
    }
    let before = format!("{:?}", saved_items(&h.dev));
    let load =
        Values::Switch(vec![dso_detector::indi::OneSwitch { name: "CONFIG_LOAD".into(), state: SwitchState::On }]);
    let msg = NewVector { device: NAME.into(), name: "CONFIG_PROCESS".into(), timestamp: None, values: load };
    h.dev.new_vector(msg, Instant::now());
    assert_eq!(before, format!("{:?}", saved_items(&h.dev)), "CONFIG_LOAD after CONFIG_SAVE changed values");
}

fuzz_target!(|data: &[u8]| {
    let path = config_path();
    for p in [path.to_owned(), config::default_path(path), config::default_path(path).with_extension("tmp")] {
        let _ = std::fs::remove_file(p);
    }
    let mut h =
        Harness { dev: Device::new(NAME, path.to_owned()), decoder: Decoder::new(), waiting: None, in_work: None };
    let mut u = Unstructured::new(data);
    for _ in 0..MAX_STEPS {
        if u.is_empty() || h.step(&mut u).is_err() {
            break;
        }
    }
    save_then_load(&mut h);
});
