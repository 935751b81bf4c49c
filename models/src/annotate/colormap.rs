//! The colour map of heat maps: *inferno*, a perceptually uniform map (equal steps in value look like equal steps
//! in colour, and it reads correctly in grey and for colour-blind viewers) that runs from black through purple and
//! orange to pale yellow, so "nothing" stays dark over the sky and "hot" stands out.
//!
//! Source: Nathaniel J. Smith and Stéfan van der Walt's inferno for matplotlib 1.5 (2015), released CC0; the table
//! below samples `matplotlib._cm_listed._inferno_data` at 17 evenly spaced points (entries 0, 16, 32, …, 255,
//! rounded to 8 bits) and is interpolated linearly in between, which stays within one 8-bit level of the full
//! 256-entry map.

use image::Rgb;

/// inferno at `i / 16`, `i = 0..=16`.
const INFERNO: [[u8; 3]; 17] = [
    [0, 0, 4],
    [11, 7, 36],
    [33, 12, 74],
    [61, 9, 101],
    [87, 16, 110],
    [113, 25, 110],
    [138, 34, 106],
    [163, 44, 97],
    [188, 55, 84],
    [208, 69, 69],
    [227, 89, 51],
    [241, 113, 31],
    [249, 140, 10],
    [252, 170, 15],
    [249, 201, 50],
    [242, 232, 101],
    [252, 255, 164],
];

/// The inferno colour of `value` in `0..=1` (values outside are clamped; NaN counts as 0).
///
/// ```
/// use dso_models::annotate::colormap::inferno;
/// assert_eq!(inferno(0.0).0, [0, 0, 4]);
/// assert_eq!(inferno(1.0).0, [252, 255, 164]);
/// assert_eq!(inferno(f32::NAN), inferno(0.0));
/// ```
pub fn inferno(value: f32) -> Rgb<u8> {
    let v = if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) };
    let t = v * 16.0;
    let i = (t as usize).min(15);
    let f = t - i as f32;
    let (a, b) = (INFERNO[i], INFERNO[i + 1]);
    let mix = |c: usize| (f32::from(a[c]) + (f32::from(b[c]) - f32::from(a[c])) * f + 0.5) as u8;
    Rgb([mix(0), mix(1), mix(2)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inferno_grows_brighter() {
        let luma = |c: Rgb<u8>| 0.2126 * f32::from(c[0]) + 0.7152 * f32::from(c[1]) + 0.0722 * f32::from(c[2]);
        let mut last = -1.0;
        for i in 0..=100 {
            let l = luma(inferno(i as f32 / 100.0));
            assert!(l >= last, "luminance drops at {i}");
            last = l;
        }
        assert_eq!(inferno(-3.0), inferno(0.0));
        assert_eq!(inferno(7.0), inferno(1.0));
        assert_eq!(inferno(0.5).0, INFERNO[8]);
    }
}
