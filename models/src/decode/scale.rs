//! Physical FITS values → `0..=1`, the range every detector sees.
//!
//! The rule depends on what the numbers are:
//! - **Integer data with the standard scaling** (`BSCALE = 1`, `BZERO` = 0 or the unsigned offset of FITS 4.0
//!   Table 11: 32768 for 16-bit, 2³¹ for 32-bit, 2⁶³ for 64-bit, −128 for signed bytes) is camera data: it is
//!   divided by the full scale of its type as KStars reads it (8-bit: 255; 16-bit: 65535, signed data read as
//!   unsigned like KStars' `SHORT_IMG → TUSHORT`, so negative values clip to 0). 32- and 64-bit integer frames are
//!   usually 16-bit camera data in a wider container (capture programs that save "32-bit"), so they are divided by
//!   65535 when their maximum fits in 16 bits, and by their type's full scale (2³² − 1, 2⁶⁴ − 1) only otherwise;
//!   dividing a 12-bit frame by 2³² would leave every value below 10⁻⁶.
//! - **Float data or any other scaling** (stacks, calibrated frames, DSS plates with `BSCALE`): if every value is
//!   already within `[0, 1]` (±1 %, as PixInsight and Siril write floats) it is kept. Otherwise it is mapped
//!   linearly from `min(0, robust minimum)` to the robust maximum, the 0.01th and 99.99th percentiles: a handful of
//!   hot pixels or a cosmic ray at 10⁶ cannot then squash the sky to black, at the price of clipping the cores of
//!   the brightest stars (which the display stretch saturates anyway). Negative sky (bias-subtracted frames) is
//!   shifted up rather than clipped, so its noise statistics survive for the stretch.
//!
//! NaN and infinities (FITS blanks) become 0 in every case.

/// At most this many samples estimate the percentiles.
const MAX_SAMPLES: usize = 1 << 20;
/// Share of samples allowed above the robust maximum or below the robust minimum.
const TAIL: f64 = 1e-4;
/// How far outside `[0, 1]` float data may stray and still count as already normalised.
const UNIT_SLACK: f32 = 0.01;

/// The scaling keywords of a FITS image, with its `BITPIX`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Storage {
    /// `BITPIX`: 8, 16, 32, 64, −32 or −64.
    pub bitpix: i32,
    /// `BZERO` (default 0).
    pub bzero: f64,
    /// `BSCALE` (default 1).
    pub bscale: f64,
}

impl Storage {
    /// True when the data are integers with one of the standard offsets (see the module docs).
    pub fn is_plain_integer(&self) -> bool {
        let unsigned_offset = match self.bitpix {
            8 => -128.0,
            16 => 32768.0,
            32 => 2_147_483_648.0,
            64 => 9_223_372_036_854_775_808.0,
            _ => return false,
        };
        self.bscale == 1.0 && (self.bzero == 0.0 || self.bzero == unsigned_offset)
    }
}

/// Normalises physical values in place to `0..=1` following the module's rules; returns the `(low, high)` input
/// values that were mapped to 0 and 1.
///
/// ```
/// use dso_models::decode::scale::{normalise, Storage};
/// let mut v = vec![0.0, 32767.5, 65535.0, f32::NAN];
/// normalise(&mut v, Storage { bitpix: 16, bzero: 32768.0, bscale: 1.0 });
/// assert_eq!(v, vec![0.0, 0.5, 1.0, 0.0]);
/// ```
pub fn normalise(values: &mut [f32], storage: Storage) -> (f32, f32) {
    let (low, high) = if storage.is_plain_integer() {
        (0.0, integer_full_scale(values, storage.bitpix))
    } else {
        float_range(values)
    };
    let span = high - low;
    let inv = if span > 0.0 && span.is_finite() { 1.0 / span } else { 0.0 };
    for v in values.iter_mut() {
        // `v - low` overflows to infinity for values near ±f32::MAX, and infinity × 0 (a span too wide to invert)
        // is NaN, which `clamp` keeps: such samples become 0 like the rest (found by fuzz/fits_decode, issue 15).
        let x = (*v - low) * inv;
        *v = if v.is_finite() && !x.is_nan() { x.clamp(0.0, 1.0) } else { 0.0 };
    }
    (low, high)
}

/// The full scale of 8- and 16-bit integer data, which does not depend on the values; `None` for other types.
pub(super) fn fixed_full_scale(bitpix: i32) -> Option<f32> {
    match bitpix {
        8 => Some(255.0),
        16 => Some(65535.0),
        _ => None,
    }
}

fn integer_full_scale(values: &[f32], bitpix: i32) -> f32 {
    match fixed_full_scale(bitpix) {
        Some(full) => full,
        None => {
            let max = values.iter().copied().filter(|v| v.is_finite()).fold(0.0f32, f32::max);
            if max <= 65535.0 {
                65535.0
            } else if bitpix == 32 || max <= 4_294_967_295.0 {
                4_294_967_295.0
            } else {
                18_446_744_073_709_551_615.0
            }
        }
    }
}

/// The `(low, high)` mapped to `(0, 1)` for float data.
fn float_range(values: &[f32]) -> (f32, f32) {
    let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in values {
        if v.is_finite() {
            min = min.min(v);
            max = max.max(v);
        }
    }
    if min > max {
        return (0.0, 1.0); // nothing finite: everything becomes 0
    }
    if min >= -UNIT_SLACK && max <= 1.0 + UNIT_SLACK {
        return (0.0, 1.0);
    }
    let step = values.len().div_ceil(MAX_SAMPLES).max(1);
    let mut s: Vec<f32> = values.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
    let (robust_min, robust_max) = if s.is_empty() {
        (min, max)
    } else {
        let last = s.len() - 1;
        let hi_at = ((last as f64) * (1.0 - TAIL)).round() as usize;
        let lo_at = ((last as f64) * TAIL).round() as usize;
        let hi = *s.select_nth_unstable_by(hi_at, f32::total_cmp).1;
        let lo = *s[..=hi_at].select_nth_unstable_by(lo_at.min(hi_at), f32::total_cmp).1;
        (lo, hi)
    };
    let low = robust_min.min(0.0);
    let high = if robust_max > low { robust_max } else { max };
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(bitpix: i32, bzero: f64, bscale: f64) -> Storage {
        Storage { bitpix, bzero, bscale }
    }

    #[test]
    fn samples_are_never_nan() {
        let mut v = vec![f32::MAX, -f32::MAX, 0.0, 1.0, f32::NAN, f32::INFINITY];
        normalise(&mut v, st(-32, 0.0, 1.0));
        assert!(v.iter().all(|x| (0.0..=1.0).contains(x)), "{v:?}");
    }

    #[test]
    fn integer_types_use_their_full_scale() {
        let mut v = vec![0.0, 255.0, 300.0, -5.0];
        normalise(&mut v, st(8, 0.0, 1.0));
        assert_eq!(v, vec![0.0, 1.0, 1.0, 0.0]);
        // Signed 16-bit (DSS plates): read as unsigned, like KStars.
        let mut v = vec![22918.0, -10.0];
        normalise(&mut v, st(16, 0.0, 1.0));
        assert!((v[0] - 22918.0 / 65535.0).abs() < 1e-6 && v[1] == 0.0);
    }

    #[test]
    fn wide_integers_holding_16_bit_data_scale_as_16_bit() {
        let mut v = vec![0.0, 4095.0, 65535.0];
        normalise(&mut v, st(32, 0.0, 1.0));
        assert_eq!(v[2], 1.0);
        let mut v = vec![0.0, 2_147_483_648.0, 4_294_967_295.0];
        normalise(&mut v, st(32, 2_147_483_648.0, 1.0));
        assert!((v[1] - 0.5).abs() < 1e-6 && v[2] == 1.0);
    }

    #[test]
    fn unit_floats_are_kept() {
        let mut v = vec![0.0, 0.25, 1.004, -0.002, f32::NAN, f32::INFINITY];
        assert_eq!(normalise(&mut v, st(-32, 0.0, 1.0)), (0.0, 1.0));
        assert_eq!(v, vec![0.0, 0.25, 1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn adu_floats_use_the_robust_maximum() {
        // Sky at ~1000 ADU up to 20000, plus one cosmic ray at 1e6.
        let mut v: Vec<f32> = (0..100_000).map(|i| 1000.0 + (i % 20_000) as f32).collect();
        v[500] = 1.0e6;
        let (low, high) = normalise(&mut v, st(-32, 0.0, 1.0));
        assert_eq!(low, 0.0);
        assert!(high > 20_000.0 && high < 21_000.0, "{high}");
        assert_eq!(v[500], 1.0);
        assert!((v[1] - 1001.0 / high).abs() < 1e-6);
    }

    #[test]
    fn negative_sky_is_shifted_not_clipped() {
        let mut v: Vec<f32> = (0..10_000).map(|i| (i % 200) as f32 - 100.0).collect();
        let (low, _) = normalise(&mut v, st(-64, 0.0, 1.0));
        assert!(low < -95.0);
        assert!(v.iter().filter(|&&x| x == 0.0).count() < 100);
    }

    #[test]
    fn non_standard_scaling_counts_as_float() {
        assert!(!st(16, 0.0, 0.5).is_plain_integer());
        assert!(st(16, 32768.0, 1.0).is_plain_integer());
        assert!(!st(-32, 0.0, 1.0).is_plain_integer());
        let mut v = vec![f32::NAN; 4];
        normalise(&mut v, st(-32, 0.0, 1.0));
        assert_eq!(v, vec![0.0; 4]);
    }
}
