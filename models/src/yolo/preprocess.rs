//! From a [`Frame`] region to the model's input tensor: resample to fit, letterbox, RGB, `0..1`.
//!
//! ultralytics trains on RGB images scaled to `0..1`, resized so the long side fills the input and padded with grey
//! 114/255 (its `LetterBox`, centred); the same is done here so a drop-in model sees what it was trained on. The
//! resampling is an area average (each output pixel is the mean of the frame pixels it covers), which is what
//! binning does and what OpenCV's `INTER_AREA` does when shrinking; it never enlarges.
//!
//! A linear frame's stretch curve can be applied to the frame's own pixels before they are averaged
//! ([`CurveOrder::BeforeResampling`], what the training images went through: the generator stretches each 640-px
//! patch at its own resolution and ultralytics then shrinks it to the input) or to the averaged values
//! ([`CurveOrder::AfterResampling`], binning then stretching). The two differ wherever the curve bends within a
//! pixel's neighbourhood: in the background noise, which the concave curve lifts and the averaging then smooths,
//! and in star profiles. docs/REAL-SKY.md measures both.

use dso_plugin_api::Frame;

/// Grey of the letterbox padding (ultralytics' `LetterBox` default, 114 of 255).
pub const PAD: f32 = 114.0 / 255.0;

/// A value map applied to a row of values in place (shareable between the threads that prepare tiles). A row at a
/// time, not a value at a time through a pointer: the map's arithmetic (the stretch curve's division) is then
/// inlined into one loop that the compiler vectorises, where one call per model-input value was the largest single
/// cost of preparing a tile (a quarter of it; docs/YOLO.md).
pub type Map = dyn Fn(&mut [f32]) + Sync;

/// A function of one value as a [`Map`].
pub fn each(f: impl Fn(f32) -> f32 + Sync) -> impl Fn(&mut [f32]) + Sync {
    move |row: &mut [f32]| row.iter_mut().for_each(|v| *v = f(*v))
}

/// [`letterbox`] for several regions, spread over up to `threads` threads (tiles of a large frame are independent;
/// preparing them all before the model runs keeps ONNX Runtime's own threads alone on the cores afterwards).
/// Regions that [`reads_half`] are read from `half`, the frame binned 2×2, when it is given and fits the frame.
#[allow(clippy::too_many_arguments)]
pub fn letterbox_all(
    frame: &Frame,
    half: Option<&Frame>,
    regions: &[Region],
    size: usize,
    maps: &[&Map],
    order: CurveOrder,
    threads: usize,
) -> Vec<(Vec<f32>, Transform)> {
    let half = half.filter(|h| crate::ops::is_half_of(h, frame));
    let one = move |r: &Region| match half {
        Some(h) if reads_half(r, size, order) => letterbox_half(h, *r, size, maps, order),
        _ => letterbox_with(frame, *r, size, maps, order),
    };
    let threads = threads.clamp(1, regions.len().max(1));
    if threads == 1 {
        return regions.iter().map(one).collect();
    }
    // Each thread takes the next region not yet taken: the whole-frame pass reads four times a tile's samples, so
    // equal shares of regions left one thread with twice the other's work.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, (Vec<f32>, Transform))> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(r) = regions.get(i) else { return mine };
                        mine.push((i, one(r)));
                    }
                })
            })
            .collect();
        // A panic in one (a bug) reaches the caller, as it would on one thread.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, input)| input).collect()
}

/// Regions shrunk to at most this scale are read from the frame binned 2×2 ([`reads_half`]).
pub const HALF_SCALE: f32 = 0.25;

/// Whether a region's input is read from the frame binned 2×2 instead of the frame: when it is shrunk at least 4×
/// (every input pixel then averages at least 2 × 2 binned pixels, 4 × 4 of the frame) and its map is applied after
/// the averaging, so that only the area weights at the edges of each input pixel differ (by up to half a frame
/// pixel). A 4096² frame's whole-frame pass and its tiles all qualify; reading a quarter of the samples is what
/// keeps the preparation of their inputs within the budget around the model (docs/YOLO.md).
pub fn reads_half(r: &Region, size: usize, order: CurveOrder) -> bool {
    order == CurveOrder::AfterResampling && letterbox_geometry(r.width, r.height, size).0 <= HALF_SCALE
}

/// [`letterbox_with`] for a region of the frame (in frame pixels) read from `half`, the frame binned 2×2: the region
/// widened to whole binned pixels; the transform maps back to frame pixels.
pub fn letterbox_half(half: &Frame, r: Region, size: usize, maps: &[&Map], order: CurveOrder) -> (Vec<f32>, Transform) {
    let (x0, y0) = (r.x / 2, r.y / 2);
    let x1 = (r.x + r.width).div_ceil(2).clamp(x0 + 1, half.width.max(x0 + 1));
    let y1 = (r.y + r.height).div_ceil(2).clamp(y0 + 1, half.height.max(y0 + 1));
    let binned = Region { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    let (input, t) = letterbox_with(half, binned, size, maps, order);
    let t = Transform {
        scale_x: t.scale_x / 2.0,
        scale_y: t.scale_y / 2.0,
        origin_x: 2.0 * t.origin_x,
        origin_y: 2.0 * t.origin_y,
        ..t
    };
    (input, t)
}

/// Whether a plane's value map is applied to the frame's pixels before area averaging or to the averaged values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CurveOrder {
    /// Average first, then map (binning then stretching): the map runs once per model-input pixel.
    #[default]
    AfterResampling,
    /// Map every frame pixel, then average (stretching then shrinking, as the training images were made).
    BeforeResampling,
}

/// A rectangle of the frame in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Left column.
    pub x: usize,
    /// Top row.
    pub y: usize,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

/// How a model-input pixel maps back to the frame: `frame = origin + (input - pad) / scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transform {
    /// Input pixels per frame pixel along x (≤ 1).
    pub scale_x: f32,
    /// Input pixels per frame pixel along y (≤ 1; equal to `scale_x` up to rounding).
    pub scale_y: f32,
    /// Left padding in input pixels.
    pub pad_x: f32,
    /// Top padding in input pixels.
    pub pad_y: f32,
    /// The region's top-left corner in the frame.
    pub origin_x: f32,
    /// The region's top-left corner in the frame.
    pub origin_y: f32,
}

impl Transform {
    /// Maps a box `(x0, y0, x1, y1)` in input pixels to frame pixels.
    pub fn to_frame(&self, b: [f32; 4]) -> [f32; 4] {
        [
            self.origin_x + (b[0] - self.pad_x) / self.scale_x,
            self.origin_y + (b[1] - self.pad_y) / self.scale_y,
            self.origin_x + (b[2] - self.pad_x) / self.scale_x,
            self.origin_y + (b[3] - self.pad_y) / self.scale_y,
        ]
    }
}

/// The letterbox geometry of a `w × h` region in a `size × size` input: scale, resized size and padding.
pub fn letterbox_geometry(w: usize, h: usize, size: usize) -> (f32, usize, usize, usize, usize) {
    let scale = (size as f32 / w.max(h) as f32).min(1.0);
    let nw = ((w as f32 * scale).round() as usize).clamp(1, size);
    let nh = ((h as f32 * scale).round() as usize).clamp(1, size);
    let pad_x = (size - nw) / 2;
    let pad_y = (size - nh) / 2;
    (scale, nw, nh, pad_x, pad_y)
}

/// Resampling weights along one axis: for each output sample, the first input index and the weights of the
/// consecutive inputs it reads (summing to 1).
pub type Weights = Vec<(usize, Vec<f32>)>;

/// Area-average weights for resampling `n_in` samples to `n_out` (≤ `n_in`): for each output sample, the first
/// input index and the weights of the inputs it covers (summing to 1).
pub fn area_weights(n_in: usize, n_out: usize) -> Weights {
    let ratio = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|o| {
            let a = o as f64 * ratio;
            let b = ((o + 1) as f64 * ratio).min(n_in as f64);
            let first = a.floor() as usize;
            let last = (b.ceil() as usize).clamp(first + 1, n_in);
            let w: Vec<f32> =
                (first..last).map(|i| ((b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0) / (b - a)) as f32).collect();
            (first, w)
        })
        .collect()
}

/// Resamples one plane's region to `wx.len() × wy.len()` with the given per-axis weights (from [`area_weights`] or
/// any other [`Weights`] over `r.width` and `r.height` inputs), writing rows of `out` with stride `stride` at offset
/// `(ox, oy)`; `map` (the stretch, when the frame is linear) is applied to every output value, or with
/// [`CurveOrder::BeforeResampling`] to every frame pixel before averaging (each source row once per output row that
/// reads it). Non-finite samples count as 0.
#[allow(clippy::too_many_arguments)]
pub fn resample_into(
    plane: &[f32],
    frame_width: usize,
    r: Region,
    wx: &Weights,
    wy: &Weights,
    out: &mut [f32],
    stride: usize,
    (ox, oy): (usize, usize),
    map: &Map,
    order: CurveOrder,
) {
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let before = order == CurveOrder::BeforeResampling;
    let nw = wx.len();
    // Each output row is the weighted sum of its source rows, then one horizontal pass over that sum: the frame's
    // pixels are read in a contiguous multiply-add that the compiler vectorises, and the short, uneven horizontal
    // windows are walked once per output row instead of once per source row (a 4096² frame and its nine tiles
    // to 320 px on one thread: 88 → 40 ms).
    let mut acc = vec![0.0f32; r.width];
    let mut mapped = vec![0.0f32; if before { r.width } else { 0 }];
    let fixed = Taps::of(wx, r.width);
    for (oyi, (y0, wys)) in wy.iter().enumerate() {
        if wys.is_empty() {
            acc.fill(0.0);
        }
        for (k, &wyk) in wys.iter().enumerate() {
            let mut src = &plane[(r.y + y0 + k) * frame_width + r.x..][..r.width];
            if before {
                mapped.iter_mut().zip(src).for_each(|(m, v)| *m = finite(*v));
                map(&mut mapped);
                src = &mapped;
            }
            // Each sample made finite here, so that a non-finite one counts as 0 and nothing else (the padded taps
            // of `fixed` read neighbours of a window with weight 0).
            if k == 0 {
                acc.iter_mut().zip(src).for_each(|(a, p)| *a = wyk * finite(*p));
            } else {
                acc.iter_mut().zip(src).for_each(|(a, p)| *a += wyk * finite(*p));
            }
        }
        let dst = &mut out[(oy + oyi) * stride + ox..][..nw];
        match &fixed {
            Taps::Four(t) => t.apply(&acc, dst),
            Taps::Eight(t) => t.apply(&acc, dst),
            Taps::Any => {
                for (d, (x0, wxs)) in dst.iter_mut().zip(wx) {
                    *d = wxs.iter().zip(&acc[*x0..]).map(|(w, p)| w * p).sum();
                }
            }
        }
        if !before {
            dst.iter_mut().for_each(|d| *d = finite(*d));
            map(dst);
        }
    }
}

/// The horizontal weights with one fixed number of taps, when every window fits it: the inner loop is then a
/// straight run of multiply-adds, not a walk over a short vector of its own for every model-input pixel.
enum Taps {
    Four(FixedTaps<4>),
    Eight(FixedTaps<8>),
    Any,
}

impl Taps {
    fn of(w: &Weights, n_in: usize) -> Self {
        let most = w.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        match most {
            1..=4 => FixedTaps::new(w, n_in).map_or(Self::Any, Self::Four),
            5..=8 => FixedTaps::new(w, n_in).map_or(Self::Any, Self::Eight),
            _ => Self::Any,
        }
    }
}

/// Windows of exactly `T` inputs: each starts early enough to end within the row, its weights padded with zeros
/// where the true window is shorter. The zeros change no sum (finite × 0 adds 0; [`resample_into`] makes every
/// sample finite first).
struct FixedTaps<const T: usize> {
    starts: Vec<usize>,
    weights: Vec<[f32; T]>,
}

impl<const T: usize> FixedTaps<T> {
    fn new(w: &Weights, n_in: usize) -> Option<Self> {
        if n_in < T {
            return None;
        }
        let (mut starts, mut weights) = (Vec::with_capacity(w.len()), Vec::with_capacity(w.len()));
        for (first, ws) in w {
            let start = (*first).min(n_in - T);
            let mut padded = [0.0; T];
            padded[first - start..][..ws.len()].copy_from_slice(ws);
            starts.push(start);
            weights.push(padded);
        }
        Some(Self { starts, weights })
    }

    fn apply(&self, acc: &[f32], dst: &mut [f32]) {
        for ((d, &start), w) in dst.iter_mut().zip(&self.starts).zip(&self.weights) {
            let src: &[f32; T] = acc[start..start + T].try_into().expect("T inputs");
            *d = w.iter().zip(src).fold(-0.0, |s, (w, p)| s + w * p);
        }
    }
}

/// [`letterbox_with`] with the map applied after resampling ([`CurveOrder::AfterResampling`]).
pub fn letterbox(frame: &Frame, r: Region, size: usize, maps: &[&Map]) -> (Vec<f32>, Transform) {
    letterbox_with(frame, r, size, maps, CurveOrder::AfterResampling)
}

/// Builds the `3 × size × size` input (CHW, RGB) for one region of a frame. Mono frames are repeated into the
/// three channels. `maps[c]` turns a resampled value into the model's `0..1` scale (the identity for stretched
/// frames, the channel's AutoSTF curve for linear ones), before or after the area averaging as `order` says.
pub fn letterbox_with(
    frame: &Frame,
    r: Region,
    size: usize,
    maps: &[&Map],
    order: CurveOrder,
) -> (Vec<f32>, Transform) {
    let (_, nw, nh, pad_x, pad_y) = letterbox_geometry(r.width, r.height, size);
    let plane_len = size * size;
    let (wx, wy) = (area_weights(r.width, nw), area_weights(r.height, nh));
    let mut out = vec![PAD; 3 * plane_len];
    for c in 0..3 {
        let p = c.min(frame.planes.len() - 1);
        if p < c {
            // mono: copy the first channel
            let (first, rest) = out.split_at_mut(plane_len);
            rest[(c - 1) * plane_len..c * plane_len].copy_from_slice(first);
            continue;
        }
        let map = maps[p.min(maps.len() - 1)];
        resample_into(
            &frame.planes[p],
            frame.width,
            r,
            &wx,
            &wy,
            &mut out[c * plane_len..(c + 1) * plane_len],
            size,
            (pad_x, pad_y),
            map,
            order,
        );
    }
    // the exact ratios used, so boxes map back without rounding drift
    let t = Transform {
        scale_x: nw as f32 / r.width as f32,
        scale_y: nh as f32 / r.height as f32,
        pad_x: pad_x as f32,
        pad_y: pad_y as f32,
        origin_x: r.x as f32,
        origin_y: r.y as f32,
    };
    (out, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dso_plugin_api::Encoding;

    fn id(v: f32) -> f32 {
        v
    }

    #[test]
    fn geometry_fits_long_side_and_centres() {
        assert_eq!(letterbox_geometry(640, 320, 320), (0.5, 320, 160, 0, 80));
        // never enlarges
        assert_eq!(letterbox_geometry(100, 50, 320), (1.0, 100, 50, 110, 135));
    }

    #[test]
    fn area_average_preserves_mean_and_weights_sum_to_one() {
        for (n_in, n_out) in [(10, 3), (4096, 320), (7, 7), (5, 2)] {
            for (_, w) in area_weights(n_in, n_out) {
                assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{n_in}->{n_out}");
            }
        }
        let f = Frame::new(4, 2, vec![vec![0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]], Encoding::Stretched).unwrap();
        let (t, tr) = letterbox(&f, Region { x: 0, y: 0, width: 4, height: 2 }, 2, &[&each(id)]);
        // 4×2 → 2×1, padded top by 0 (size 2, nh 1, pad (2-1)/2 = 0)
        assert!((t[0] - 0.5).abs() < 1e-6 && (t[1] - 0.5).abs() < 1e-6);
        assert_eq!(t[2], PAD);
        assert_eq!((tr.scale_x, tr.scale_y), (0.5, 0.5));
    }

    #[test]
    fn curve_order_decides_whether_pixels_or_averages_are_mapped() {
        // one row [0, 1] shrunk to one pixel through the square: map(mean) = 0.25, mean(map) = 0.5
        let f = Frame::new(2, 1, vec![vec![0.0, 1.0]], Encoding::Linear).unwrap();
        let square = |v: f32| v * v;
        let r = Region { x: 0, y: 0, width: 2, height: 1 };
        let (after, _) = letterbox_with(&f, r, 1, &[&each(square)], CurveOrder::AfterResampling);
        let (before, _) = letterbox_with(&f, r, 1, &[&each(square)], CurveOrder::BeforeResampling);
        assert!((after[0] - 0.25).abs() < 1e-6, "{after:?}");
        assert!((before[0] - 0.5).abs() < 1e-6, "{before:?}");
        // NaN pixels count as 0 in both orders
        let f = Frame::new(2, 1, vec![vec![f32::NAN, 1.0]], Encoding::Linear).unwrap();
        let (before, _) = letterbox_with(&f, r, 1, &[&each(square)], CurveOrder::BeforeResampling);
        assert!((before[0] - 0.5).abs() < 1e-6, "{before:?}");
        let (after, _) = letterbox_with(&f, r, 1, &[&each(square)], CurveOrder::AfterResampling);
        assert!((after[0] - 0.25).abs() < 1e-6, "{after:?}");
    }

    #[test]
    fn curve_orders_agree_without_shrinking_or_for_linear_maps() {
        let f = Frame::new(30, 20, vec![(0..600).map(|i| (i % 37) as f32 / 37.0).collect()], Encoding::Linear).unwrap();
        let r = Region { x: 3, y: 2, width: 24, height: 16 };
        let square = |v: f32| v * v;
        let affine = |v: f32| 0.2 + 0.5 * v;
        // 24×16 in a 32 input: not resampled, so the order cannot matter
        let a = letterbox_with(&f, r, 32, &[&each(square)], CurveOrder::AfterResampling);
        let b = letterbox_with(&f, r, 32, &[&each(square)], CurveOrder::BeforeResampling);
        assert_eq!(a, b);
        // shrunk 3×: an affine map commutes with averaging
        let (a, _) = letterbox_with(&f, r, 8, &[&each(affine)], CurveOrder::AfterResampling);
        let (b, _) = letterbox_with(&f, r, 8, &[&each(affine)], CurveOrder::BeforeResampling);
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
    }

    #[test]
    fn fixed_taps_give_each_window_its_weighted_sum() {
        let acc: Vec<f32> = (0..2048).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
        for (n_in, n_out) in [(788, 320), (2048, 320), (9, 4), (5, 5)] {
            let w = area_weights(n_in, n_out);
            let want: Vec<f32> =
                w.iter().map(|(x0, ws)| ws.iter().zip(&acc[*x0..]).map(|(w, p)| w * p).sum()).collect();
            let mut got = vec![f32::NAN; n_out];
            match Taps::of(&w, n_in) {
                Taps::Four(t) => t.apply(&acc, &mut got),
                Taps::Eight(t) => t.apply(&acc, &mut got),
                Taps::Any => panic!("{n_in} → {n_out} has at most 8 taps"),
            }
            assert_eq!(got, want, "{n_in} → {n_out}");
        }
        // wider windows than eight taps keep the general walk
        assert!(matches!(Taps::of(&area_weights(100, 9), 100), Taps::Any));
    }

    #[test]
    fn parallel_preparation_matches_serial() {
        let f =
            Frame::new(50, 40, vec![(0..2000).map(|i| (i % 97) as f32 / 97.0).collect()], Encoding::Stretched).unwrap();
        let rs = [Region { x: 0, y: 0, width: 50, height: 40 }, Region { x: 10, y: 5, width: 20, height: 20 }];
        let a = letterbox_all(&f, None, &rs, 16, &[&each(id)], CurveOrder::AfterResampling, 1);
        let b = letterbox_all(&f, None, &rs, 16, &[&each(id)], CurveOrder::AfterResampling, 2);
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn regions_shrunk_4x_are_read_from_the_half_plane_and_map_back_to_the_frame() {
        // A smooth ramp with a bright square: binning then averaging gives the frame's own area average to within
        // the edge weights, and boxes map back to the same frame pixels.
        let (w, h) = (203, 161);
        let data: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let square = (60..100).contains(&x) && (40..80).contains(&y);
                (x + y) as f32 / (w + h) as f32 * 0.5 + if square { 0.4 } else { 0.0 }
            })
            .collect();
        let f = Frame::new(w, h, vec![data], Encoding::Stretched).unwrap();
        let half = crate::ops::bin_frame(&f, 2).unwrap();
        let after = CurveOrder::AfterResampling;
        let (whole, tile) =
            (Region { x: 0, y: 0, width: w, height: h }, Region { x: 51, y: 33, width: 120, height: 96 });
        for r in [whole, tile] {
            assert!(reads_half(&r, 24, after), "{r:?}");
            let full = letterbox_with(&f, r, 24, &[&each(id)], after);
            let both = letterbox_all(&f, Some(&half), &[r], 24, &[&each(id)], after, 1).remove(0);
            // Odd region corners widen the region by a frame pixel: at the square's 0.4 step that moves an input
            // pixel by up to a fifth of it; elsewhere the inputs agree closely.
            let diffs: Vec<f32> = full.0.iter().zip(&both.0).map(|(a, b)| (a - b).abs()).collect();
            let (worst, mean) =
                (diffs.iter().fold(0.0f32, |m, d| m.max(*d)), diffs.iter().sum::<f32>() / diffs.len() as f32);
            assert!(worst < 0.1 && mean < 0.01, "{r:?}: worst {worst}, mean {mean}");
            assert_ne!(full.0, both.0, "read from the half plane");
            // The input's content maps back onto the region, widened to whole binned pixels (≤ 1 frame pixel a side).
            let (bw, bh) = ((r.x + r.width).div_ceil(2) - r.x / 2, (r.y + r.height).div_ceil(2) - r.y / 2);
            let (_, nw, nh, px, py) = letterbox_geometry(bw, bh, 24);
            let content = both.1.to_frame([px as f32, py as f32, (px + nw) as f32, (py + nh) as f32]);
            let region = [r.x, r.y, r.x + r.width, r.y + r.height].map(|v| v as f32);
            assert!(content.iter().zip(&region).all(|(c, r)| (c - r).abs() <= 1.0), "{content:?} vs {region:?}");
        }
        // Not shrunk 4×, another curve order, or a half plane of another frame: read from the frame.
        let small = Region { x: 0, y: 0, width: 80, height: 80 };
        assert!(!reads_half(&small, 24, after));
        assert!(!reads_half(&whole, 24, CurveOrder::BeforeResampling));
        let other = crate::ops::bin_frame(&half, 2).unwrap();
        let got = letterbox_all(&f, Some(&other), &[whole], 24, &[&each(id)], after, 1).remove(0);
        assert_eq!(got, letterbox_with(&f, whole, 24, &[&each(id)], after));
    }

    #[test]
    fn mono_is_repeated_and_transform_maps_back() {
        let f = Frame::new(8, 8, vec![(0..64).map(|i| i as f32 / 64.0).collect()], Encoding::Stretched).unwrap();
        let r = Region { x: 4, y: 0, width: 4, height: 8 };
        let (t, tr) = letterbox(&f, r, 8, &[&each(id)]);
        assert_eq!(&t[0..64], &t[64..128]);
        assert_eq!(&t[0..64], &t[128..192]);
        // region 4×8 in an 8×8 input: no scaling, 2 px padding left and right
        assert_eq!(t[2], 4.0 / 64.0);
        let b = tr.to_frame([2.0, 0.0, 6.0, 8.0]);
        assert_eq!(b, [4.0, 0.0, 8.0, 8.0]);
    }
}
