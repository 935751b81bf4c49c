//! One-shot colour cameras (the Seestar, every "OSC" astro camera) deliver their raw mosaic: one plane where each
//! pixel saw through one red, green or blue filter, in a 2×2 pattern named by the FITS keyword `BAYERPAT`
//! (`RGGB`, `GRBG`, `GBRG`, `BGGR`: the top-left 2×2 cell read row by row). Detectors want colour at full
//! resolution, so the mosaic is interpolated (demosaiced) here.
//!
//! Conventions, as KStars implements them (`FITSData::checkDebayerFITS` in `kstars/fitsviewer/fitsdata.cpp`, which
//! hands the result to libdc1394's `dc1394_bayer_decoding_16bit`):
//! - `XBAYROFF`/`YBAYROFF` say the pattern starts that many columns/rows into the data: pixel (`XBAYROFF`,
//!   `YBAYROFF`) is the pattern's first cell. Only the parity matters.
//! - `ROWORDER = 'BOTTOM-UP'` means the rows were written bottom row first, and the pattern describes the sensor's
//!   top-left, i.e. the *last* stored row. KStars keeps the stored order for display and, for an even height, swaps
//!   the pattern's two rows (RGGB ↔ GBRG, GRBG ↔ BGGR); for an odd height the last row has the first row's parity
//!   and nothing changes. [`CfaPattern::at`] folds both rules into one parity shift.
//!
//! The demosaic is bilinear (each missing colour is the mean of the nearest 2 or 4 samples of that colour), the
//! method of libdc1394's `dc1394_bayer_Bilinear`: cheap, artefact-free on smooth sky, and plenty for detection. Edges
//! are handled by mirroring about the edge pixel, which keeps the mosaic's parity so edge pixels get true
//! neighbours of the right colour.

use std::fmt;

/// A colour channel of the mosaic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Red filter.
    Red,
    /// Green filter.
    Green,
    /// Blue filter.
    Blue,
}

/// The 2×2 colour filter cell, as `BAYERPAT` names it: `cells[row][column]` of the cell at the pattern's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfaPattern {
    cells: [[Channel; 2]; 2],
}

impl CfaPattern {
    /// Parses `RGGB`, `GRBG`, `GBRG` or `BGGR` (case and surrounding blanks ignored); `None` for anything else,
    /// including patterns that a bilinear demosaic cannot handle (`RGBG`, CMY).
    ///
    /// ```
    /// use dso_models::decode::bayer::{CfaPattern, Channel};
    /// let p = CfaPattern::parse(" grbg ").unwrap();
    /// assert_eq!(p.at(0, 0), Channel::Green);
    /// assert_eq!(p.at(1, 0), Channel::Red);
    /// assert!(CfaPattern::parse("RGBG").is_none());
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        use Channel::{Blue as B, Green as G, Red as R};
        let cells = match name.trim().to_ascii_uppercase().as_str() {
            "RGGB" => [[R, G], [G, B]],
            "GRBG" => [[G, R], [B, G]],
            "GBRG" => [[G, B], [R, G]],
            "BGGR" => [[B, G], [G, R]],
            _ => return None,
        };
        Some(Self { cells })
    }

    /// The pattern as the data's pixel (0, 0) sees it, after the FITS offsets and row order (see the module docs).
    ///
    /// `x_offset`/`y_offset` are `XBAYROFF`/`YBAYROFF`; `bottom_up` is `ROWORDER = 'BOTTOM-UP'`; `height` is the
    /// number of rows.
    ///
    /// ```
    /// use dso_models::decode::bayer::CfaPattern;
    /// let rggb = CfaPattern::parse("RGGB").unwrap();
    /// assert_eq!(rggb.aligned(1, 0, false, 100), CfaPattern::parse("GRBG").unwrap());
    /// assert_eq!(rggb.aligned(0, 0, true, 100), CfaPattern::parse("GBRG").unwrap());
    /// assert_eq!(rggb.aligned(0, 0, true, 101), rggb);
    /// ```
    pub fn aligned(self, x_offset: i64, y_offset: i64, bottom_up: bool, height: usize) -> Self {
        let dx = x_offset.rem_euclid(2) as usize;
        let mut dy = y_offset.rem_euclid(2) as usize;
        if bottom_up && height % 2 == 0 {
            dy ^= 1;
        }
        let mut cells = self.cells;
        for (y, row) in cells.iter_mut().enumerate() {
            for (x, cell) in row.iter_mut().enumerate() {
                *cell = self.cells[(y + dy) % 2][(x + dx) % 2];
            }
        }
        Self { cells }
    }

    /// The filter over pixel (`x`, `y`) when the pattern's origin is at pixel (0, 0).
    pub fn at(&self, x: usize, y: usize) -> Channel {
        self.cells[y % 2][x % 2]
    }
}

impl fmt::Display for CfaPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for row in self.cells {
            for c in row {
                f.write_str(match c {
                    Channel::Red => "R",
                    Channel::Green => "G",
                    Channel::Blue => "B",
                })?;
            }
        }
        Ok(())
    }
}

/// Mirrors an index about the edges (−1 → 1, `n` → `n − 2`), which keeps its parity and so its filter colour.
#[inline]
fn mirror(i: isize, n: usize) -> usize {
    let n = n as isize;
    let m = if i < 0 {
        -i
    } else if i >= n {
        2 * n - 2 - i
    } else {
        i
    };
    m.clamp(0, n - 1) as usize
}

/// Bilinear demosaic of a `width × height` mosaic whose pixel (0, 0) is under `pattern`'s first cell.
///
/// Returns the red, green and blue planes, each `width × height`. Mosaics narrower or shorter than 2 pixels have
/// no full pattern cell and come back as three copies of the input. Large mosaics are split by rows over the
/// available cores.
///
/// ```
/// use dso_models::decode::bayer::{demosaic, CfaPattern};
/// // A pure red scene through an RGGB filter: only the R sites see light.
/// let m = vec![1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
/// let [r, g, b] = demosaic(&m, 4, 4, CfaPattern::parse("RGGB").unwrap());
/// assert!(r.iter().all(|&v| v == 1.0));
/// assert!(g.iter().chain(&b).all(|&v| v == 0.0));
/// ```
pub fn demosaic(mosaic: &[f32], width: usize, height: usize, pattern: CfaPattern) -> [Vec<f32>; 3] {
    let n = width * height;
    if width < 2 || height < 2 || mosaic.len() != n {
        return [mosaic.to_vec(), mosaic.to_vec(), mosaic.to_vec()];
    }
    let mut planes = [vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]];
    let threads = if n < 1 << 20 { 1 } else { std::thread::available_parallelism().map_or(1, |t| t.get().min(8)) };
    let rows_per_band = height.div_ceil(threads);
    let [red, green, blue] = &mut planes;
    let bands = red
        .chunks_mut(rows_per_band * width)
        .zip(green.chunks_mut(rows_per_band * width))
        .zip(blue.chunks_mut(rows_per_band * width))
        .enumerate();
    std::thread::scope(|scope| {
        for (band, ((r, g), b)) in bands {
            let first_row = band * rows_per_band;
            scope.spawn(move || demosaic_band(mosaic, width, height, pattern, first_row, [r, g, b]));
        }
    });
    planes
}

/// Demosaics the rows from `first_row` on into `out` (whole rows of the three planes).
fn demosaic_band(
    mosaic: &[f32],
    width: usize,
    height: usize,
    pattern: CfaPattern,
    first_row: usize,
    out: [&mut [f32]; 3],
) {
    let [r_out, g_out, b_out] = out;
    let rows = r_out.chunks_exact_mut(width).zip(g_out.chunks_exact_mut(width)).zip(b_out.chunks_exact_mut(width));
    for (i, ((r_row, g_row), b_row)) in rows.enumerate() {
        let y = first_row + i;
        let up = &mosaic[mirror(y as isize - 1, height) * width..][..width];
        let mid = &mosaic[y * width..][..width];
        let down = &mosaic[mirror(y as isize + 1, height) * width..][..width];
        // Each row alternates one colour site (R or B) with green; its neighbours above and below hold the other
        // colour. Write that colour's plane as "own", the other one as "other".
        let (own_colour_at_odd, red_row) = match (pattern.at(0, y), pattern.at(1, y)) {
            (Channel::Red, _) => (false, true),
            (_, Channel::Red) => (true, true),
            (Channel::Blue, _) => (false, false),
            _ => (true, false),
        };
        let (own, other) = if red_row { (r_row, b_row) } else { (b_row, r_row) };
        demosaic_row([up, mid, down], usize::from(own_colour_at_odd), [own, g_row, other]);
    }
}

/// One output row. `rows` are the input rows above, at and below; `site_parity` the parity of the columns holding
/// this row's colour (not green) sites; `out` the planes of that colour, green, and the other colour.
#[inline]
fn demosaic_row(rows: [&[f32]; 3], site_parity: usize, out: [&mut [f32]; 3]) {
    let w = rows[1].len();
    let (up, mid, down) = (&rows[0][..w], &rows[1][..w], &rows[2][..w]);
    let [own, green, other] = out;
    let (own, green, other) = (&mut own[..w], &mut green[..w], &mut other[..w]);
    for x in 0..w {
        // Mirrored neighbours at the edges (−1 → 1, w → w − 2) keep the colour sites where they belong.
        let left = if x == 0 { 1 } else { x - 1 };
        let right = if x + 1 == w { w - 2 } else { x + 1 };
        let v = mid[x];
        if x & 1 == site_parity {
            own[x] = v;
            green[x] = 0.25 * ((up[x] + down[x]) + (mid[left] + mid[right]));
            other[x] = 0.25 * ((up[left] + up[right]) + (down[left] + down[right]));
        } else {
            own[x] = 0.5 * (mid[left] + mid[right]);
            green[x] = v;
            other[x] = 0.5 * (up[x] + down[x]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mosaic of a uniform scene (`rgb`) seen through `pattern`.
    fn mosaic_of(rgb: [f32; 3], width: usize, height: usize, pattern: CfaPattern) -> Vec<f32> {
        let mut m = vec![0.0; width * height];
        for y in 0..height {
            for x in 0..width {
                m[y * width + x] = match pattern.at(x, y) {
                    Channel::Red => rgb[0],
                    Channel::Green => rgb[1],
                    Channel::Blue => rgb[2],
                };
            }
        }
        m
    }

    #[test]
    fn uniform_scenes_come_back_exactly() {
        for name in ["RGGB", "GRBG", "GBRG", "BGGR"] {
            let p = CfaPattern::parse(name).unwrap();
            for (w, h) in [(6, 4), (7, 5), (2, 2), (3, 9)] {
                let planes = demosaic(&mosaic_of([0.8, 0.3, 0.1], w, h, p), w, h, p);
                for (plane, want) in planes.iter().zip([0.8, 0.3, 0.1]) {
                    assert!(plane.iter().all(|&v| (v - want).abs() < 1e-6), "{name} {w}×{h}: {plane:?}");
                }
            }
        }
    }

    #[test]
    fn offsets_shift_the_pattern() {
        let rggb = CfaPattern::parse("RGGB").unwrap();
        assert_eq!(rggb.aligned(0, 1, false, 10).to_string(), "GBRG");
        assert_eq!(rggb.aligned(1, 1, false, 10).to_string(), "BGGR");
        assert_eq!(rggb.aligned(-1, 3, false, 10).to_string(), "BGGR");
        // BOTTOM-UP with an even height swaps rows, as KStars does; with YBAYROFF too it swaps back.
        assert_eq!(CfaPattern::parse("GRBG").unwrap().aligned(0, 0, true, 1920).to_string(), "BGGR");
        assert_eq!(rggb.aligned(0, 1, true, 10).to_string(), "RGGB");
    }

    #[test]
    fn banded_threads_match_one_pass() {
        // Large enough to be split over threads, with an odd height so the last band is short.
        let (w, h) = (1030, 1021);
        let m: Vec<f32> = (0..w * h).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
        let p = CfaPattern::parse("GBRG").unwrap();
        let split = demosaic(&m, w, h, p);
        let mut whole = [vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]];
        let [r, g, b] = &mut whole;
        demosaic_band(&m, w, h, p, 0, [r, g, b]);
        assert!(split == whole);
    }

    #[test]
    fn tiny_mosaics_do_not_panic() {
        let p = CfaPattern::parse("RGGB").unwrap();
        let [r, _, _] = demosaic(&[0.5], 1, 1, p);
        assert_eq!(r, vec![0.5]);
        let [r, _, _] = demosaic(&[0.5, 0.25], 2, 1, p);
        assert_eq!(r.len(), 2);
    }
}
