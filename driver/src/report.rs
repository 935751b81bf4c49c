//! What a detector's answer becomes for people and programs: the user's threshold and count applied, the
//! `DSO_RESULTS.JSON` document, and the one-line `SUMMARY`.
//!
//! The driver and `dso-detect` both go through here, so a file analysed offline and the same frame seen live give
//! byte-identical JSON (apart from timing).

use dso_models::sky::identify::Expected;
use dso_models::sky::{FieldSummary, Identified, Identity, TargetState};
use dso_plugin_api::Detection;
use serde::Serialize;

/// The user's choices that shape a result: `DSO_SETTINGS` in the driver, flags in the CLI.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Selection {
    /// Detections below this confidence are dropped.
    pub confidence: f32,
    /// At most this many detections are kept, the most confident first.
    pub max_detections: usize,
}

impl Default for Selection {
    fn default() -> Self {
        Self { confidence: DEFAULT_CONFIDENCE, max_detections: DEFAULT_MAX_DETECTIONS }
    }
}

/// Default `DSO_SETTINGS.CONFIDENCE`.
pub const DEFAULT_CONFIDENCE: f32 = 0.5;
/// Default `DSO_SETTINGS.MAX_DETECTIONS`.
pub const DEFAULT_MAX_DETECTIONS: usize = 20;

/// Applies a selection to a detector's raw output: drops non-finite and empty boxes, clips boxes to the frame,
/// keeps those at or above the threshold, most confident first, at most `max_detections`.
pub fn select(objects: Vec<Detection>, width: usize, height: usize, selection: Selection) -> Vec<Detection> {
    let (w, h) = (width as f32, height as f32);
    let mut objects: Vec<Detection> =
        objects.iter().filter_map(|d| d.clipped(w, h)).filter(|d| d.confidence >= selection.confidence).collect();
    objects.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    objects.truncate(selection.max_detections);
    objects
}

/// The frame a result is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrameInfo {
    /// Width in pixels as received.
    pub width: usize,
    /// Height in pixels as received.
    pub height: usize,
    /// Where it came from, as [`crate::pipeline::Origin`] shows it: `"CCD Simulator.CCD1"`, `"upload"`, or a file
    /// path. Text, not the enum: this is what the JSON report and the summary carry.
    pub source: String,
    /// The INDI format string or file suffix (`".fits"`, `".jpg"`).
    pub format: String,
    /// When it was received, UTC, `YYYY-MM-DDTHH:MM:SS` as INDI writes timestamps.
    pub timestamp: String,
}

/// One detection in the JSON document; pixels of the frame as received, origin top-left.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JsonDetection {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
    /// Class: the catalogue's when the detection is named, else the detector's.
    pub label: String,
    /// Confidence, 0–1.
    pub confidence: f32,
    /// `detector`, or `catalogue` for an object the catalogue put in the frame and the image shows.
    pub source: &'static str,
    /// The detector's own class when the catalogue's differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector_label: Option<String>,
    /// Who it is (`name`, `catalog_id`, `common_name`, `type`, `ra`, `dec`, `magnitude`), when named.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

impl JsonDetection {
    /// A detector's detection, rounded (boxes to 0.1 px, confidence to 0.001), not named yet.
    pub fn from_detection(d: &Detection) -> Self {
        let r1 = |v: f32| (v * 10.0).round() / 10.0;
        Self {
            x: r1(d.x),
            y: r1(d.y),
            width: r1(d.width),
            height: r1(d.height),
            label: d.label.clone(),
            confidence: (d.confidence * 1000.0).round() / 1000.0,
            source: "detector",
            detector_label: None,
            identity: None,
        }
    }
}

/// The observer's target in the JSON document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetReport {
    /// As the observer (or the frame's `OBJECT`) wrote it.
    pub name: String,
    /// The catalogue object it resolved to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// `captured`, `in_field`, `not_in_field`, `unknown`.
    pub state: TargetState,
}

/// The `DSO_RESULTS.JSON` document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The frame.
    pub frame: FrameInfo,
    /// The detector's name.
    pub detector: String,
    /// Frame received → results ready, milliseconds.
    pub latency_ms: f64,
    /// What was found, most confident first.
    pub detections: Vec<JsonDetection>,
    /// Where the frame is on the sky, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldSummary>,
    /// Why the frame could not be placed on the sky, or what was doubtful.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_note: Option<String>,
    /// Catalogue objects in the frame that were not seen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<Expected>,
    /// The observer's target and whether it was captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetReport>,
    /// `names` for a later update of the same frame's results (the frame's timestamp is unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<&'static str>,
}

impl Report {
    /// Builds a report from selected detections (boxes rounded to 0.1 px, confidences to 0.001).
    pub fn new(frame: FrameInfo, detector: &str, latency_ms: f64, detections: &[Detection]) -> Self {
        let detections = detections.iter().map(JsonDetection::from_detection).collect();
        Self {
            frame,
            detector: detector.to_owned(),
            latency_ms: (latency_ms * 10.0).round() / 10.0,
            detections,
            field: None,
            field_note: None,
            expected: Vec::new(),
            target: None,
            update: None,
        }
    }

    /// Adds what naming found: identities of the detections (in the order of the detections this report was made
    /// from), the catalogue's own finds that pass `selection`, the field and the expected objects. Named detections
    /// take the catalogue's class.
    pub fn add_names(&mut self, id: &Identified, selection: Selection) {
        for (d, name) in self.detections.iter_mut().zip(&id.names) {
            let Some(name) = name else { continue };
            if let Some(class) = name.class.filter(|c| *c != d.label) {
                d.detector_label = Some(std::mem::replace(&mut d.label, class.to_owned()));
            }
            d.identity = Some(name.clone());
        }
        let room = selection.max_detections.saturating_sub(self.detections.len());
        let found = id.from_catalogue.iter().filter(|(d, _)| d.confidence >= selection.confidence).take(room);
        self.detections.extend(found.map(|(d, identity)| JsonDetection {
            source: "catalogue",
            identity: Some(identity.clone()),
            ..JsonDetection::from_detection(d)
        }));
        self.detections.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        self.field = Some(id.field.clone());
        self.expected = id.expected.clone();
    }

    /// The named detections' labels for pictures: `M 94 galaxy`, else the class.
    pub fn picture_labels(&self) -> Vec<Detection> {
        self.detections
            .iter()
            .map(|d| Detection {
                x: d.x,
                y: d.y,
                width: d.width,
                height: d.height,
                label: match &d.identity {
                    Some(i) => format!("{} {}", i.name, d.label),
                    None => d.label.clone(),
                },
                confidence: d.confidence,
            })
            .collect()
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// One line a person reads, names first: `M 51 (Whirlpool Galaxy) 0.95; 2 more`, else
    /// `2 objects: nebula 0.91, galaxy 0.64` or `no object found`.
    pub fn summary(&self) -> String {
        // The observer's target leads when it was found; a bright companion or knot must not open the line.
        let target = self.target.as_ref().and_then(|t| t.catalog_id.as_deref());
        let mut named: Vec<(bool, String)> = self
            .detections
            .iter()
            .filter_map(|d| {
                let i = d.identity.as_ref()?;
                Some((target != Some(i.catalog_id.as_str()), format!("{} {:.2}", i.label(), d.confidence)))
            })
            .collect();
        named.sort_by_key(|(not_target, _)| *not_target);
        let named: Vec<String> = named.into_iter().map(|(_, text)| text).collect();
        if named.is_empty() {
            return summary(&self.detections.iter().map(|d| (d.label.as_str(), d.confidence)).collect::<Vec<_>>());
        }
        let shown = named.len().min(3);
        let more = self.detections.len() - shown;
        let mut line = named[..shown].join(", ");
        if more > 0 {
            line.push_str(&format!("; {more} more"));
        }
        line
    }
}

/// The summary line for (label, confidence) pairs, most confident first.
pub fn summary(found: &[(&str, f32)]) -> String {
    match found.len() {
        0 => "no object found".to_owned(),
        n => {
            let items: Vec<String> = found.iter().map(|(l, c)| format!("{l} {c:.2}")).collect();
            format!("{n} object{}: {}", if n == 1 { "" } else { "s" }, items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_info() -> FrameInfo {
        FrameInfo {
            width: 100,
            height: 80,
            source: "upload".into(),
            format: ".fits".into(),
            timestamp: "2026-11-25T19:13:03".into(),
        }
    }

    fn det(x: f32, conf: f32) -> Detection {
        Detection { x, y: 10.0, width: 20.0, height: 20.0, label: "galaxy".into(), confidence: conf }
    }

    #[test]
    fn select_thresholds_sorts_and_truncates() {
        let sel = Selection { confidence: 0.5, max_detections: 2 };
        let out = select(vec![det(0.0, 0.6), det(1.0, 0.4), det(2.0, 0.9), det(3.0, 0.7)], 100, 100, sel);
        let confs: Vec<f32> = out.iter().map(|d| d.confidence).collect();
        assert_eq!(confs, vec![0.9, 0.7]);
    }

    #[test]
    fn select_clips_and_drops_bad_boxes() {
        let sel = Selection { confidence: 0.0, max_detections: 10 };
        let mut outside = det(-10.0, 0.8);
        outside.y = 95.0;
        let nan = Detection { confidence: f32::NAN, ..det(0.0, 0.5) };
        let gone = det(200.0, 0.8);
        let out = select(vec![outside, nan, gone], 100, 100, sel);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].x, out[0].y, out[0].width, out[0].height), (0.0, 95.0, 10.0, 5.0));
    }

    #[test]
    fn json_follows_the_schema() {
        let frame = frame_info();
        let r = Report::new(frame, "naive", 12.34, &[det(1.04, 0.91234)]);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["frame"]["width"], 100);
        assert_eq!(v["frame"]["source"], "upload");
        assert_eq!(v["detector"], "naive");
        assert_eq!(v["latency_ms"], 12.3);
        assert_eq!(v["detections"][0]["label"], "galaxy");
        assert!((v["detections"][0]["x"].as_f64().unwrap() - 1.0).abs() < 1e-6);
        assert!((v["detections"][0]["confidence"].as_f64().unwrap() - 0.912).abs() < 1e-6);
    }

    #[test]
    fn summary_reads_like_a_sentence() {
        assert_eq!(summary(&[]), "no object found");
        assert_eq!(summary(&[("nebula", 0.913), ("galaxy", 0.64)]), "2 objects: nebula 0.91, galaxy 0.64");
        assert_eq!(summary(&[("dso", 0.5)]), "1 object: dso 0.50");
    }

    #[test]
    fn summary_leads_with_names_and_the_captured_target() {
        let frame = frame_info();
        let mut r = Report::new(frame, "yolo", 1.0, &[det(1.0, 0.99), det(2.0, 0.65), det(3.0, 0.6)]);
        let catalogue = dso_models::sky::Catalog::openngc();
        r.detections[0].identity = Some(Identity::of(catalogue.lookup("NGC 5195").unwrap()));
        r.detections[1].identity = Some(Identity::of(catalogue.lookup("M 51").unwrap()));
        assert_eq!(r.summary(), "NGC 5195 0.99, M 51 (Whirlpool Galaxy) 0.65; 1 more");
        r.target = Some(TargetReport {
            name: "M 51".into(),
            catalog_id: Some("NGC 5194".into()),
            state: TargetState::Captured,
        });
        assert_eq!(r.summary(), "M 51 (Whirlpool Galaxy) 0.65, NGC 5195 0.99; 1 more");
    }
}
