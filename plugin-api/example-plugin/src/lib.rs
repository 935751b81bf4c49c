//! An example DSO Detector plugin in Rust: "brightest", the brightest extended regions of a frame.
//!
//! It exists to show authors a complete plugin (configuration string, detections, heat map) in a few dozen lines,
//! and to let the project's tests load a real Rust plugin. The method is deliberately simple: a box blur wide
//! enough to wash out stars, then the highest peaks above the background, each grown into the region above half
//! its height. Its configuration can also make it misbehave (`misbehave=panic|nan|outside`), which is how the
//! tests check that the host contains a bad plugin.
//!
//! Build: `cargo build --release -p dso-plugin-example` → `target/release/libdso_plugin_example.so`.

use dso_plugin_api::{Detection, Detections, Detector, Error, Frame, HeatMap};

/// How the detector misbehaves on purpose, for the host's tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehave {
    /// It behaves.
    No,
    /// `detect` panics.
    Panic,
    /// Confidences are NaN.
    Nan,
    /// Boxes lie outside the frame.
    Outside,
}

/// The detector and its settings.
#[derive(Debug)]
pub struct Brightest {
    /// Blur radius in pixels; 0 means 1/60 of the shorter side.
    pub radius: usize,
    /// Most regions reported.
    pub max: usize,
    /// See [`Misbehave`].
    pub misbehave: Misbehave,
}

impl Brightest {
    /// Parses `key=value` settings separated by spaces or commas: `radius`, `max`, `misbehave`.
    pub fn from_config(config: &str) -> Result<Self, Error> {
        let mut d = Brightest { radius: 0, max: 5, misbehave: Misbehave::No };
        for item in config.split([' ', ',', '\t']).filter(|s| !s.is_empty()) {
            let (key, value) = item.split_once('=').unwrap_or((item, ""));
            let bad = || Error::new(format!("brightest: bad value '{value}' for {key}"));
            match key {
                "radius" => d.radius = value.parse().map_err(|_| bad())?,
                "max" => d.max = value.parse().map_err(|_| bad())?,
                "misbehave" => {
                    d.misbehave = match value {
                        "panic" => Misbehave::Panic,
                        "nan" => Misbehave::Nan,
                        "outside" => Misbehave::Outside,
                        _ => return Err(bad()),
                    }
                }
                _ => return Err(Error::new(format!("brightest: unknown setting '{key}' (radius, max, misbehave)"))),
            }
        }
        Ok(d)
    }
}

/// A separable box blur of radius `r`, edges clamped.
fn box_blur(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let pass = |src: &[f32], len: usize, count: usize, at: &dyn Fn(usize, usize) -> usize| {
        let mut out = vec![0.0; src.len()];
        for line in 0..count {
            let mut sum: f32 = (0..=2 * r).map(|i| src[at(line, i.saturating_sub(r).min(len - 1))]).sum();
            for i in 0..len {
                out[at(line, i)] = sum / (2 * r + 1) as f32;
                sum += src[at(line, (i + r + 1).min(len - 1))] - src[at(line, i.saturating_sub(r))];
            }
        }
        out
    };
    let horizontal = pass(src, w, h, &|row, x| row * w + x);
    pass(&horizontal, h, w, &|col, y| y * w + col)
}

/// The median and the median absolute deviation of a sample of values.
fn median_mad(values: &[f32]) -> (f32, f32) {
    let step = (values.len() / 20_000).max(1);
    let mut s: Vec<f32> = values.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
    if s.is_empty() {
        return (0.0, 0.0);
    }
    let mid = s.len() / 2;
    let med = *s.select_nth_unstable_by(mid, f32::total_cmp).1;
    let mut dev: Vec<f32> = s.iter().map(|v| (v - med).abs()).collect();
    let mad = *dev.select_nth_unstable_by(mid, f32::total_cmp).1;
    (med, mad)
}

impl Detector for Brightest {
    fn name(&self) -> &str {
        "brightest"
    }

    fn detect(&mut self, frame: &Frame) -> Result<Detections, Error> {
        if self.misbehave == Misbehave::Panic {
            panic!("brightest was configured to panic");
        }
        let (w, h) = (frame.width, frame.height);
        let r = if self.radius > 0 { self.radius } else { (w.min(h) / 60).max(1) };
        let blurred = box_blur(&frame.luminance(), w, h, r);
        let (bg, mad) = median_mad(&blurred);
        let peak = blurred.iter().copied().fold(bg, f32::max);
        let span = (peak - bg).max(f32::EPSILON);
        let heat: Vec<f32> = blurred.iter().map(|v| ((v - bg) / span).clamp(0.0, 1.0)).collect();
        let noise = (1.4826 * mad).max(1e-6);

        let mut free = vec![true; w * h];
        let mut objects = Vec::new();
        while objects.len() < self.max {
            let Some((top, &level)) =
                heat.iter().enumerate().filter(|(i, _)| free[*i]).max_by(|a, b| a.1.total_cmp(b.1))
            else {
                break;
            };
            let snr = level * span / noise;
            if level < 0.2 || snr < 5.0 {
                break;
            }
            // Grow the region above half the peak (4-connected), marking it used.
            let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
            let mut stack = vec![top];
            free[top] = false;
            while let Some(i) = stack.pop() {
                let (x, y) = (i % w, i / w);
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                let neighbours =
                    [(x > 0, i.wrapping_sub(1)), (x + 1 < w, i + 1), (y > 0, i.wrapping_sub(w)), (y + 1 < h, i + w)];
                for (inside, j) in neighbours {
                    if inside && free[j] && heat[j] >= level / 2.0 {
                        free[j] = false;
                        stack.push(j);
                    }
                }
            }
            objects.push(Detection {
                x: x0 as f32,
                y: y0 as f32,
                width: (x1 - x0 + 1) as f32,
                height: (y1 - y0 + 1) as f32,
                label: "dso".into(),
                confidence: snr / (snr + 20.0),
            });
        }
        match self.misbehave {
            Misbehave::Nan => objects.iter_mut().for_each(|d| d.confidence = f32::NAN),
            Misbehave::Outside => objects.push(Detection {
                x: w as f32 + 100.0,
                y: -50.0,
                width: 20.0,
                height: 20.0,
                label: "outside".into(),
                confidence: 0.9,
            }),
            _ => {}
        }
        Ok(Detections { objects, heatmap: Some(HeatMap { width: w, height: h, values: heat }) })
    }
}

dso_plugin_api::export_detector! {
    name: "brightest",
    version: env!("CARGO_PKG_VERSION"),
    description: "example plugin (Rust): the brightest extended regions after a box blur, with a heat map",
    create: Brightest::from_config,
}

#[cfg(test)]
mod tests {
    use super::*;
    use dso_plugin_api::Encoding;

    #[test]
    fn finds_a_bright_blob_and_makes_a_heat_map() {
        let (w, h) = (120, 90);
        let mut plane = vec![0.1f32; w * h];
        for y in 30..50 {
            for x in 70..95 {
                plane[y * w + x] = 0.6;
            }
        }
        let frame = Frame::new(w, h, vec![plane], Encoding::Linear).unwrap();
        let found = Brightest::from_config("radius=2").unwrap().detect(&frame).unwrap();
        let best = &found.objects[0];
        assert!((65.0..=75.0).contains(&best.x) && (25.0..=35.0).contains(&best.y), "{best:?}");
        assert!(best.confidence > 0.5, "{best:?}");
        assert_eq!(found.heatmap.unwrap().values.len(), w * h);
    }

    #[test]
    fn configuration_is_checked() {
        assert!(Brightest::from_config("").is_ok());
        assert_eq!(Brightest::from_config("misbehave=nan").unwrap().misbehave, Misbehave::Nan);
        assert!(Brightest::from_config("colour=blue").is_err());
        assert!(Brightest::from_config("radius=x").is_err());
    }
}
