//! Frame triage: is this frame worth stacking, and if not, why?
//!
//! The paper's second use of detection is triage (Parisot & Jaziri 2024, §1): keep only good signal and notice the
//! unexpected, satellite trails above all. Weather, dew, wind and tracking errors ruin frames, and an EAA user
//! usually learns it only after the session. This module measures every frame as it is decoded — sky background,
//! noise, stars, their width and shape, saturation — finds straight trails on the star-removed residual, and
//! compares the frame with the session's best frames to give a verdict with reasons
//! (`clouds: background +2.1σ, stars −63 %`).
//!
//! It is INDI-free: the driver publishes [`Measures`] and the [`Verdict`] as `DSO_QUALITY` for every frame, and
//! `dso-detect triage` runs the same code over a night's folder.
//!
//! Everything except the per-star shape is measured on the frame binned to about 512 px a side ([`measures`]), so
//! a 4096² frame costs one pass over its pixels plus a quarter megapixel's work; star widths are measured on the full
//! frame, on small cut-outs around the brightest stars only ([`stars`]).
//!
//! | module | what | why separate |
//! |---|---|---|
//! | [`measures`] | binning, background mesh, noise, saturation | the cheap working image every other step reads |
//! | [`stars`] | star candidates, FWHM, elongation, orientation | the one step that reads full-resolution pixels |
//! | [`trails`] | Hough lines on the star-masked residual, segments, spike and galaxy rejection | the hardest part, tested on its own |
//! | [`verdict`] | the session's reference, thresholds, reasons | relative to the night, not to absolute numbers |
//! | [`synth`] | frames with known clouds, defocus, trailing and trails | the truth the tests and figures are measured on |

pub mod measures;
pub mod stars;
pub mod synth;
pub mod trails;
pub mod verdict;

#[cfg(test)]
mod tests;

use dso_plugin_api::Frame;

pub use trails::Trail;
pub use verdict::{Level, Reason, Session, Thresholds, Verdict};

/// Scale of the numbers reported in ADU: frames are decoded to `0..=1`, and 16-bit ADU is what astronomers read in
/// their capture software.
pub const ADU: f32 = 65535.0;

/// What one frame looks like, measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Measures {
    /// Frame width, pixels.
    pub width: usize,
    /// Frame height, pixels.
    pub height: usize,
    /// Binning factor of the working image.
    pub binning: usize,
    /// Median sky level, 16-bit ADU.
    pub background: f32,
    /// Pixel noise (standard deviation from the median absolute deviation of neighbour differences), 16-bit ADU.
    pub noise: f32,
    /// Stars found (local maxima at least [`Params::star_sigma`] above the sky in the working image, hot pixels
    /// excluded).
    pub stars: usize,
    /// Median flux of the 50 brightest stars in the working image, 16-bit ADU × binned pixels (transparency).
    pub star_flux: f32,
    /// Median full width at half maximum of the measured stars, full-frame pixels; `None` without stars to measure.
    pub fwhm: Option<f32>,
    /// Median elongation (major / minor axis) of the measured stars; 1 for round stars.
    pub elongation: Option<f32>,
    /// Mean orientation of the stars' major axes, degrees from +x towards +y (image rows down), `0..180`.
    pub orientation: Option<f32>,
    /// How many stars the width and shape come from.
    pub measured_stars: usize,
    /// Fraction of pixels at or above [`Params::saturation`].
    pub saturation: f32,
    /// Trails found, strongest first.
    pub trails: Vec<Trail>,
}

/// Tunables of the measurements (the verdict's are [`Thresholds`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Longest side of the working image; larger frames are binned by whole factors to fit.
    pub work_side: usize,
    /// A star peaks at least this many noise sigmas above the sky in the working image.
    pub star_sigma: f32,
    /// Level (fraction of full scale) from which a pixel counts as saturated.
    pub saturation: f32,
    /// Most stars whose width and shape are measured (the brightest unsaturated ones).
    pub max_measured: usize,
    /// Look for trails at all.
    pub trails: bool,
    /// Trail detection settings.
    pub trail: trails::TrailParams,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            work_side: 512,
            star_sigma: 5.0,
            // 16-bit cameras clip at 65535 and those with 12- or 14-bit converters scaled to 16 bits at 65520 or
            // 65532: all above 0.99 of full scale, which stars short of saturation rarely reach.
            saturation: 0.99,
            max_measured: 150,
            trails: true,
            trail: trails::TrailParams::default(),
        }
    }
}

/// Measures a decoded frame: background, noise, stars, widths, shapes, saturation and trails.
pub fn measure(frame: &Frame, params: &Params) -> Measures {
    let lum_owned;
    let lum: &[f32] = if frame.is_color() {
        lum_owned = frame.luminance();
        &lum_owned
    } else {
        &frame.planes[0]
    };
    let work = measures::Work::new(lum, frame.width, frame.height, params);
    let found = stars::find(&work, lum, params);
    let shape = stars::shape(&found, &work, lum, params);
    let trails = if params.trails { trails::find(&work, &found, &params.trail) } else { Vec::new() };
    Measures {
        width: frame.width,
        height: frame.height,
        binning: work.factor,
        background: work.background * ADU,
        noise: work.noise * ADU,
        stars: found.len(),
        star_flux: stars::median_flux(&found, 50) * ADU,
        fwhm: shape.fwhm,
        elongation: shape.elongation,
        orientation: shape.orientation,
        measured_stars: shape.count,
        saturation: work.saturation,
        trails,
    }
}
