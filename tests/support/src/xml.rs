//! The INDI messages tests send and the questions they ask of the ones they receive: XML as cameras, servers and
//! clients write it, and the values of a decoded message.

use dso_detector::indi::{Message, PropertyState};

/// `newSwitchVector CONNECTION=CONNECT` for a device.
pub fn connect_xml(device: &str) -> String {
    format!(
        "<newSwitchVector device=\"{device}\" name=\"CONNECTION\"><oneSwitch name=\"CONNECT\">On</oneSwitch></newSwitchVector>\n"
    )
}

/// True for a `defXXXVector` of this name.
pub fn is_def(m: &Message, name: &str) -> bool {
    matches!(m, Message::Def(d) if d.name == name)
}

/// True for a `setXXXVector` of this name.
pub fn is_set(m: &Message, name: &str) -> bool {
    matches!(m, Message::Set(s) if s.name == name)
}

/// The text of an element in a text `set` or `def` message.
pub fn text_of(m: &Message, element: &str) -> Option<String> {
    use dso_detector::indi::{DefElements, Values};
    match m {
        Message::Set(s) => match &s.values {
            Values::Text(v) => v.iter().find(|e| e.name == element).map(|e| e.value.clone()),
            _ => None,
        },
        Message::Def(d) => match &d.elements {
            DefElements::Text(v) => v.iter().find(|e| e.name == element).map(|e| e.value.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The value of an element in a number `set` or `def` message.
pub fn number_of(m: &Message, element: &str) -> Option<f64> {
    use dso_detector::indi::{DefElements, Values};
    match m {
        Message::Set(s) => match &s.values {
            Values::Number(v) => v.iter().find(|e| e.name == element).map(|e| e.value),
            _ => None,
        },
        Message::Def(d) => match &d.elements {
            DefElements::Number(v) => v.iter().find(|e| e.name == element).map(|e| e.value),
            _ => None,
        },
        _ => None,
    }
}

/// The state of a `set` or `def` message.
pub fn state_of(m: &Message) -> Option<PropertyState> {
    match m {
        Message::Set(s) => s.state,
        Message::Def(d) => Some(d.state),
        _ => None,
    }
}

/// A `setBLOBVector` from a camera, inline base64 on one line with `len` (as a server forwards it).
pub fn camera_blob_one_line(device: &str, format: &str, data: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    format!(
        "<setBLOBVector device=\"{device}\" name=\"CCD1\" state=\"Ok\" timestamp=\"2026-11-25T19:13:03\">\n<oneBLOB name=\"CCD1\" size=\"{}\" format=\"{format}\" len=\"{}\">{b64}</oneBLOB>\n</setBLOBVector>\n",
        data.len(),
        data.len()
    )
}

/// A `setBLOBVector` from a camera whose `len` bytes come as an attached descriptor (`attached="true"`, an empty
/// element), as indiserver 1.9.7–1.9.9 forwards a BLOB to a snooping driver; send it with `Driver::send_with_fd`.
pub fn camera_blob_attached(device: &str, format: &str, len: usize) -> String {
    format!(
        "<setBLOBVector device=\"{device}\" name=\"CCD1\" state=\"Ok\"><oneBLOB name=\"CCD1\" size=\"{len}\" format=\"{format}\" len=\"{len}\" attached=\"true\"/></setBLOBVector>\n"
    )
}

/// The same, as a libindi driver writes it: `enclen` and 72-column lines.
pub fn camera_blob_72(device: &str, format: &str, data: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let lines: Vec<&str> = b64.as_bytes().chunks(72).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!(
        "<setBLOBVector device=\"{device}\" name=\"CCD1\" state=\"Ok\">\n  <oneBLOB name=\"CCD1\" size=\"{}\" enclen=\"{}\" format=\"{format}\">\n{}\n  </oneBLOB>\n</setBLOBVector>\n",
        data.len(),
        b64.len(),
        lines.join("\n")
    )
}

/// The JSON of the next `DSO_RESULTS` in state Ok.
pub fn results_json(m: &Message) -> serde_json::Value {
    let text = text_of(m, "JSON").expect("DSO_RESULTS has JSON");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON {text}: {e}"))
}

/// Best IoU between a JSON detection list and a box.
pub fn best_iou(json: &serde_json::Value, (x, y, w, h): (f32, f32, f32, f32)) -> f32 {
    let truth = dso_plugin_api::Detection { x, y, width: w, height: h, label: String::new(), confidence: 1.0 };
    json["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let f = |k: &str| d[k].as_f64().unwrap() as f32;
            let found = dso_plugin_api::Detection {
                x: f("x"),
                y: f("y"),
                width: f("width"),
                height: f("height"),
                label: String::new(),
                confidence: 1.0,
            };
            found.iou(&truth)
        })
        .fold(0.0, f32::max)
}

/// `newSwitchVector` turning one switch on.
pub fn set_switch(device: &str, prop: &str, el: &str) -> String {
    new_switch(device, prop, el, true)
}

/// `newSwitchVector` turning one switch on or off.
pub fn new_switch(device: &str, prop: &str, el: &str, on: bool) -> String {
    let state = if on { "On" } else { "Off" };
    format!("<newSwitchVector device=\"{device}\" name=\"{prop}\"><oneSwitch name=\"{el}\">{state}</oneSwitch></newSwitchVector>\n")
}

/// `newTextVector` setting one text.
pub fn set_text(device: &str, prop: &str, el: &str, value: &str) -> String {
    format!(
        "<newTextVector device=\"{device}\" name=\"{prop}\"><oneText name=\"{el}\">{value}</oneText></newTextVector>\n"
    )
}

/// A file uploaded to the driver through `DSO_IMAGE_UPLOAD`, as a client sends it (inline base64, `format` as the
/// file's extension: `.fits`, `.xisf`).
pub fn upload_xml(format: &str, data: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    format!(
        "<newBLOBVector device=\"DSO Detector\" name=\"DSO_IMAGE_UPLOAD\"><oneBLOB name=\"IMAGE\" size=\"{}\" format=\"{format}\">{b64}</oneBLOB></newBLOBVector>\n",
        data.len()
    )
}

/// True for `DSO_RESULTS` in state Ok: a frame analysed.
pub fn ok_results(m: &Message) -> bool {
    is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Ok)
}

/// True for `DSO_RESULTS` in state Ok or Alert: a frame's analysis finished, well or not.
pub fn finished_results(m: &Message) -> bool {
    is_set(m, "DSO_RESULTS") && matches!(state_of(m), Some(PropertyState::Ok | PropertyState::Alert))
}

/// Whether a message is a device message starting with this text (`"[ERROR] "`).
pub fn said_starting(m: &Message, prefix: &str) -> bool {
    matches!(m, Message::Message(dm) if dm.message.as_deref().is_some_and(|t| t.starts_with(prefix)))
}
