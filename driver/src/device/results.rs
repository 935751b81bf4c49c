//! Publishing what the worker and the decoder report: results, statistics, pictures, and errors with Alert.

use dso_models::sky::TargetState;

use crate::indi::{Message, PropertyState, ProtocolError};
use crate::pipeline::Origin;
use crate::props;
use crate::report::Report;
use crate::worker::Outcome;

use super::elements::{annotated, heatmap, results, stats, El};
use super::table::Prop;
use super::{Device, Level};

impl Device {
    /// Reports a message that could not be decoded: an error message, and Alert on the property involved (for a
    /// camera frame that is `DSO_RESULTS`, the property whose result it spoiled).
    pub fn protocol_error(&mut self, err: &ProtocolError) {
        let ours = err.device.as_deref() == Some(self.name.as_str());
        let camera = err.device.is_some() && err.device.as_deref() == self.snooped_ccd.as_deref();
        let target = match (&err.name, ours, camera) {
            (Some(name), true, _) => Some(name.clone()),
            (_, _, true) if self.is_connected() => Some(Prop::Results.name().to_owned()),
            _ => None,
        };
        let text = format!("bad message ignored: {err}");
        match target {
            Some(name) if ours => self.refuse_named(&name, &text),
            Some(name) => self.alert_named(&name, &text),
            None => self.log(Level::Error, &text),
        }
    }

    /// Counts a frame that was replaced before the worker could take it.
    pub fn frame_dropped(&mut self) {
        self.frames_dropped += 1;
        self.set_number(stats::FRAMES_DROPPED, self.frames_dropped as f64);
        if self.is_connected() {
            self.publish(Prop::Stats, None);
        }
    }

    /// `COUNT` and `MAX_CONFIDENCE` from a report: the detector's detections and the catalogue's finds.
    pub(super) fn set_counts(&mut self, report: &Report) {
        let max_conf = report.detections.iter().map(|d| d.confidence).fold(0.0f32, f32::max);
        self.set_number(stats::COUNT, report.detections.len() as f64);
        self.set_number(stats::MAX_CONFIDENCE, max_conf as f64);
    }

    /// `DSO_RESULTS` Ok with a report's JSON and summary.
    pub(super) fn publish_results(&mut self, report: &Report) {
        self.set_text(results::JSON, &report.to_json());
        self.set_text(results::SUMMARY, &report.summary());
        self.ok(Prop::Results, None);
    }

    /// Publishes what the worker reports.
    pub fn worker_outcome(&mut self, outcome: Outcome) {
        if !self.is_connected() {
            return;
        }
        match outcome {
            Outcome::Started { source } => {
                self.set_text(results::SUMMARY, &format!("analysing {source}…"));
                self.publish_state(Prop::Results, PropertyState::Busy);
            }
            Outcome::Progress { source, percent } => {
                self.set_text(results::SUMMARY, &format!("analysing {source}… {percent} %"));
                self.publish_state(Prop::Results, PropertyState::Busy);
            }
            Outcome::Finished { source, detector, result: Ok(mut a) } => {
                self.frames_processed += 1;
                let summary = a.report.summary();
                self.set_counts(&a.report);
                for (k, v) in [
                    (stats::LATENCY_MS, a.report.latency_ms),
                    (stats::FRAMES_PROCESSED, self.frames_processed as f64),
                    (stats::FRAMES_DROPPED, self.frames_dropped as f64),
                    (stats::WIDTH, a.report.frame.width as f64),
                    (stats::HEIGHT, a.report.frame.height as f64),
                ] {
                    self.set_number(k, v);
                }
                self.ok(Prop::Stats, None);
                if let Some(jpeg) = a.annotated.take() {
                    self.publish_blob(annotated::IMAGE, ".jpg", jpeg);
                }
                if let Some(png) = a.heatmap.take() {
                    self.publish_blob(heatmap::IMAGE, ".png", png);
                }
                if source == Origin::Upload {
                    self.ok(Prop::ImageUpload, None);
                }
                // While a plate solve is pending, "unknown" would only flicker before the solved state arrives.
                let solving =
                    a.pending.is_some() && a.report.target.as_ref().is_some_and(|t| t.state == TargetState::Unknown);
                if !solving {
                    self.publish_target(&a.report);
                }
                if let Some(m) = a.quality.take() {
                    self.publish_quality(&source, &m);
                }
                if let Some(note) = &a.report.field_note {
                    self.log(Level::Warning, &format!("{source}: {note}"));
                }
                // Results last: a client reacting to them finds this frame's statistics and pictures already there.
                self.publish_results(&a.report);
                if let Some(pending) = a.pending.take() {
                    self.queue_solve(source.to_string(), pending);
                }
                self.log(Level::Debug, &format!("{source} by {detector}: {summary}"));
            }
            Outcome::Finished { source, detector, result: Err(why) } => {
                self.set_text(results::SUMMARY, &format!("failed: {why}"));
                if source == Origin::Upload {
                    self.publish_state(Prop::ImageUpload, PropertyState::Alert);
                }
                self.alert_named(Prop::Results.name(), &format!("{source} ({detector}): {why}"));
            }
        }
    }

    /// Marks a picture's property Ok and sends the picture.
    fn publish_blob(&mut self, e: El, format: &str, data: Vec<u8>) {
        let v = self.props.get_mut(e.prop);
        v.state = PropertyState::Ok;
        let set = props::set_blob(v, e.name, format, data);
        self.outbox.push(Message::Set(set));
    }
}
