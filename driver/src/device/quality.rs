//! Publishing a frame's quality: `DSO_QUALITY` (the measures), `DSO_VERDICT` (good, marginal or reject, and why),
//! and a warning when frames start failing.
//!
//! The measures come from the worker (`pipeline::triage`); the verdict is judged here, on the main thread, because
//! it compares the frame with the session's earlier ones ([`dso_models::quality::Session`]) and the device is the
//! one owner of state. The property states follow the verdict as the control panel's lights show them: Ok (green)
//! for good, Busy (yellow) for marginal, Alert (red) for reject.

use dso_models::quality::{Level as Verdict, Measures};

use crate::indi::PropertyState;
use crate::pipeline::Origin;

use super::elements::{quality, verdict};
use super::table::Prop;
use super::{Device, Level};

impl Device {
    /// Judges a frame's measures against the session, publishes them and the verdict, and warns when frames
    /// start failing (a good frame after failing ones says so once, as information).
    pub(super) fn publish_quality(&mut self, source: &Origin, m: &Measures) {
        let v = self.session.judge(m);
        for (k, value) in [
            (quality::BACKGROUND, m.background as f64),
            (quality::NOISE, m.noise as f64),
            (quality::STARS, m.stars as f64),
            (quality::FWHM, m.fwhm.unwrap_or(0.0) as f64),
            (quality::ELONGATION, m.elongation.unwrap_or(0.0) as f64),
            (quality::TRAILS, m.trails.len() as f64),
        ] {
            self.set_number(k, value);
        }
        let state = match v.level {
            Verdict::Good => PropertyState::Ok,
            Verdict::Marginal => PropertyState::Busy,
            Verdict::Reject => PropertyState::Alert,
        };
        self.publish_state(Prop::Quality, state);
        self.set_text(verdict::VERDICT, v.level.as_str());
        self.set_text(verdict::REASONS, &v.reasons_text());
        self.publish_state(Prop::Verdict, state);
        let kinds: Vec<&'static str> = v.reasons.iter().map(|r| r.kind).collect();
        let changed = self.last_verdict.as_ref().is_none_or(|(level, before)| *level != v.level || *before != kinds);
        if changed && v.level != Verdict::Good {
            self.log(Level::Warning, &format!("{source}: {}", warning_text(&v)));
        } else if changed && self.last_verdict.as_ref().is_some_and(|(level, _)| *level != Verdict::Good) {
            self.log(Level::Info, &format!("{source}: frames are good again"));
        }
        self.last_verdict = Some((v.level, kinds));
    }
}

/// `reject: clouds? background +2.1σ, stars −63 %; trail in frame`: the verdict as a warning — clouds are a guess
/// from their effects, and the warning says so.
fn warning_text(v: &dso_models::quality::Verdict) -> String {
    let reasons: Vec<String> = v
        .reasons
        .iter()
        .map(|r| if r.kind == "clouds" { r.text.replacen("clouds:", "clouds?", 1) } else { r.text.clone() })
        .collect();
    format!("{} frame: {}", v.level, reasons.join("; "))
}
