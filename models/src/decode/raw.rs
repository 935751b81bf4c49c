//! The pixels of an uncompressed FITS image, converted from their big-endian bytes on all cores.
//!
//! cfitsio stays the reference: it finds the HDU, parses every header, and reads everything this module declines
//! (tile-compressed data, integer images with `BLANK`, 64-bit integers). The common case, a camera's plain 16-bit
//! frame, is the one that matters for speed: cfitsio's one-threaded `fits_read_img` into floats took 43 ms of a
//! 4096 × 4096 frame's 47 ms decode on the project's 2-core machine. This does the same arithmetic — `BZERO +
//! BSCALE × stored` in double precision, rounded to `f32`, as cfitsio's `fffi2r4` and friends do — in bands, one
//! per core (`cargo test --release -p dso-models bench_decode -- --ignored --nocapture` prints both). A camera's
//! plain 8- and 16-bit samples are normalised to `0..=1` in the same pass ([`normalised_camera_values`]).
//!
//! **One frame's samples kept for the next.** A 4096² frame's floats are a fresh 64 MB block, and glibc maps a block
//! that large anew for every frame, so the conversion also paid for faulting in 16 384 pages each time: 20–23 ms of
//! its wall time on the project's 2-core machine, against 5 ms when the block was already in place (a frame loop of
//! the YOLO path, 6 rounds each). [`recycle`] hands a finished frame's largest plane back; the next conversion of at
//! most that many samples (and at least half as many) writes into it. One plane is kept at most, and
//! [`release_spare`] frees it (the driver does when the detector changes).

use std::sync::Mutex;

use dso_plugin_api::Frame;

use super::scale::Storage;

/// The plane [`recycle`] kept for the next conversion (empty: none).
static SPARE: Mutex<Vec<f32>> = Mutex::new(Vec::new());

/// Planes shorter than this are not kept: glibc reuses blocks below its mmap threshold without faults anyway.
const MIN_SPARE: usize = 1 << 18;

/// Keeps the largest plane of a frame that is no longer needed, so that the next frame's conversion writes into
/// memory already in place instead of a fresh mapping (see the module docs). The planes of a frame that shares
/// nothing are the only ones this can take, so it takes the frame by value.
pub fn recycle(frame: Frame) {
    let Some(plane) = frame.planes.into_iter().max_by_key(Vec::len) else { return };
    if plane.len() >= MIN_SPARE {
        if let Ok(mut spare) = SPARE.lock() {
            *spare = plane;
        }
    }
}

/// Frees the kept plane ([`recycle`]), as when the detector changes and the next frames may be of another size.
pub fn release_spare() {
    if let Ok(mut spare) = SPARE.lock() {
        *spare = Vec::new();
    }
}

/// A buffer of `count` samples for a conversion to overwrite: the kept plane when it holds between `count` and
/// twice `count` samples (its old values stay until overwritten: no pass to zero it), else a fresh one.
fn buffer(count: usize) -> Vec<f32> {
    let spare = SPARE.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
    if (count..=count.saturating_mul(2)).contains(&spare.len()) {
        let mut v = spare;
        v.truncate(count);
        v
    } else {
        drop(spare);
        vec![0.0f32; count]
    }
}

/// Samples converted per thread below which one thread does all (thread start-up would cost more).
const MIN_PER_THREAD: usize = 1 << 20;

/// The physical values of `count` samples of `bitpix` (8, 16, 32, −32 or −64) stored big-endian at the start of
/// `data`, or `None` when this module does not handle the case (other `BITPIX`, too few bytes).
///
/// ```
/// use dso_models::decode::raw::physical_values;
/// // Two unsigned 16-bit samples stored with BZERO 32768: 0 and 65535.
/// let data = [0x80, 0x00, 0x7f, 0xff];
/// assert_eq!(physical_values(&data, 16, 2, 32768.0, 1.0), Some(vec![0.0, 65535.0]));
/// assert_eq!(physical_values(&data, 64, 1, 0.0, 1.0), None);
/// ```
pub fn physical_values(data: &[u8], bitpix: i32, count: usize, bzero: f64, bscale: f64) -> Option<Vec<f32>> {
    let width = match bitpix {
        8 => 1,
        16 => 2,
        32 | -32 => 4,
        -64 => 8,
        _ => return None,
    };
    in_bands(data, width, count, |bytes, values| convert(bytes, bitpix, bzero, bscale, values))
}

/// A camera's plain 8- or 16-bit samples (`BSCALE` 1, `BZERO` 0 or the unsigned offset, no `BLANK`) straight to
/// `0..=1`: the same values as [`physical_values`] followed by [`super::scale::normalise`] (bit for bit: every
/// intermediate is an integer below 2²⁴, exact in `f32`), in one pass over the frame instead of two. `None` for any
/// other storage.
pub fn normalised_camera_values(data: &[u8], storage: Storage, count: usize) -> Option<Vec<f32>> {
    let scale = CameraScale::of(storage)?;
    in_bands(data, scale.sample_bytes(), count, |bytes, values| scale.convert(bytes, values))
}

/// [`normalised_camera_values`] of a mono frame `width × height`, and the frame binned 2×2 made in the same pass:
/// each pair of rows is binned ([`crate::ops::bin_samples_into`], so the values are [`crate::ops::bin_frame`]'s bit
/// for bit) right after it is converted, while it is still in the core's cache, instead of read back from memory
/// afterwards. Reading the 64 MB of a 4096² frame's samples again was most of the binning's time (one core: 9 ms
/// from memory, 4 ms from cache), and the binned plane is what YOLO's inputs and the picture of a large frame start
/// from (docs/YOLO.md, eighth session).
pub fn normalised_camera_values_and_half(
    data: &[u8],
    storage: Storage,
    width: usize,
    height: usize,
) -> Option<(Vec<f32>, Vec<f32>)> {
    let scale = CameraScale::of(storage)?;
    in_bands_with_half(data, scale.sample_bytes(), width, height, |bytes, values| scale.convert(bytes, values))
}

/// How a camera's plain 8- or 16-bit samples become `0..=1` (see [`normalised_camera_values`]).
#[derive(Clone, Copy)]
struct CameraScale {
    eight: bool,
    zero: f32,
    inv: f32,
}

impl CameraScale {
    /// `None` for any storage but a camera's plain 8 or 16 bits.
    fn of(storage: Storage) -> Option<Self> {
        let full_scale = super::scale::fixed_full_scale(storage.bitpix)?;
        storage.is_plain_integer().then_some(Self {
            eight: storage.bitpix == 8,
            zero: storage.bzero as f32,
            inv: 1.0 / full_scale,
        })
    }

    fn sample_bytes(self) -> usize {
        if self.eight {
            1
        } else {
            2
        }
    }

    /// `values.len()` samples from `bytes`.
    fn convert(self, bytes: &[u8], values: &mut [f32]) {
        let unit = |stored: f32| ((self.zero + stored) * self.inv).clamp(0.0, 1.0);
        if self.eight {
            values.iter_mut().zip(bytes).for_each(|(v, &b)| *v = unit(f32::from(b)));
        } else {
            values
                .iter_mut()
                .zip(bytes.chunks_exact(2))
                .for_each(|(v, b)| *v = unit(f32::from(i16::from_be_bytes([b[0], b[1]]))));
        }
    }
}

/// [`in_bands`] for a `width × height` plane in bands of whole pairs of rows, each pair binned 2×2 into the second
/// buffer as soon as `band` has converted it.
fn in_bands_with_half(
    data: &[u8],
    sample_bytes: usize,
    width: usize,
    height: usize,
    band: impl Fn(&[u8], &mut [f32]) + Sync,
) -> Option<(Vec<f32>, Vec<f32>)> {
    let count = width.checked_mul(height).filter(|&n| n > 0)?;
    let data = data.get(..count.checked_mul(sample_bytes)?)?;
    let (half_width, half_height) = (width.div_ceil(2), height.div_ceil(2));
    // Every sample of both is written below.
    let mut out = buffer(count);
    let mut half = vec![0.0f32; half_width * half_height];
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get().min(8)).min(count / MIN_PER_THREAD).max(1);
    let pairs = half_height.div_ceil(threads).max(1);
    let (pair_bytes, pair_values) = (2 * width * sample_bytes, 2 * width);
    let band = &band;
    std::thread::scope(|scope| {
        let bands = data.chunks(pairs * pair_bytes).zip(out.chunks_mut(pairs * pair_values));
        for ((bytes, values), half) in bands.zip(half.chunks_mut(pairs * half_width)) {
            scope.spawn(move || {
                let rows = bytes.chunks(pair_bytes).zip(values.chunks_mut(pair_values));
                for ((bytes, values), half_row) in rows.zip(half.chunks_mut(half_width)) {
                    band(bytes, values);
                    crate::ops::bin_samples_into(values, width, values.len() / width, 2, half_row);
                }
            });
        }
    });
    Some((out, half))
}

/// `count` samples of `width` bytes from the start of `data`, converted by `band` in one band per core.
fn in_bands(data: &[u8], width: usize, count: usize, band: impl Fn(&[u8], &mut [f32]) + Sync) -> Option<Vec<f32>> {
    let data = data.get(..count.checked_mul(width)?)?;
    // Every sample of `out` is written below.
    let mut out = buffer(count);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get().min(8)).min(count / MIN_PER_THREAD).max(1);
    let per = count.div_ceil(threads).max(1);
    let band = &band;
    std::thread::scope(|scope| {
        for (bytes, values) in data.chunks(per * width).zip(out.chunks_mut(per)) {
            scope.spawn(move || band(bytes, values));
        }
    });
    Some(out)
}

/// One band: `values.len()` samples from `bytes`.
fn convert(bytes: &[u8], bitpix: i32, zero: f64, scale: f64, values: &mut [f32]) {
    let physical = |stored: f64| (zero + scale * stored) as f32;
    match bitpix {
        8 => values.iter_mut().zip(bytes).for_each(|(v, &b)| *v = physical(f64::from(b))),
        16 => values
            .iter_mut()
            .zip(bytes.chunks_exact(2))
            .for_each(|(v, b)| *v = physical(f64::from(i16::from_be_bytes([b[0], b[1]])))),
        32 => values
            .iter_mut()
            .zip(bytes.chunks_exact(4))
            .for_each(|(v, b)| *v = physical(f64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])))),
        -32 => values.iter_mut().zip(bytes.chunks_exact(4)).for_each(|(v, b)| {
            *v = physical(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])));
        }),
        -64 => values.iter_mut().zip(bytes.chunks_exact(8)).for_each(|(v, b)| {
            *v = physical(f64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_plane_is_written_into_and_gives_the_same_values() {
        let storage = Storage { bitpix: 16, bzero: 32768.0, bscale: 1.0 };
        let count = MIN_SPARE + 3;
        let data: Vec<u8> = (0..count as u32).flat_map(|i| (i as u16).to_be_bytes()).collect();
        let fresh = normalised_camera_values(&data, storage, count).unwrap();
        // A plane of the same size, full of other values, kept: the next conversion uses its block and overwrites
        // every sample. (Other tests may convert meanwhile and take it: then only the values are checked.)
        let old = vec![7.0f32; count];
        let at = old.as_ptr();
        recycle(Frame::new(count, 1, vec![old], dso_plugin_api::Encoding::Linear).unwrap());
        let again = normalised_camera_values(&data, storage, count).unwrap();
        assert!(again.iter().zip(&fresh).all(|(a, b)| a.to_bits() == b.to_bits()));
        if again.as_ptr() == at {
            assert_eq!(again.len(), count);
        }
        // Larger than twice the request: not used for it.
        recycle(Frame::new(count * 3, 1, vec![vec![0.5; count * 3]], dso_plugin_api::Encoding::Linear).unwrap());
        let small = buffer(count);
        assert_eq!(small.len(), count);
        assert!(small.capacity() < count * 3);
        release_spare();
        assert!(SPARE.lock().unwrap().is_empty());
    }

    #[test]
    fn camera_values_are_the_two_pass_values_bit_for_bit() {
        let all: Vec<u8> = (0..=u16::MAX).flat_map(|v| v.to_be_bytes()).collect();
        let bytes: Vec<u8> = (0..=255).collect();
        for (data, bitpix, bzero) in [(&all, 16, 32768.0), (&all, 16, 0.0), (&bytes, 8, 0.0), (&bytes, 8, -128.0)] {
            let count = data.len() / (bitpix as usize / 8);
            let storage = Storage { bitpix, bzero, bscale: 1.0 };
            let mut two = physical_values(data, bitpix, count, bzero, 1.0).unwrap();
            super::super::scale::normalise(&mut two, storage);
            let one = normalised_camera_values(data, storage, count).unwrap();
            assert!(one.iter().zip(&two).all(|(a, b)| a.to_bits() == b.to_bits()), "BITPIX {bitpix} BZERO {bzero}");
        }
        let scaled = Storage { bitpix: 16, bzero: 0.0, bscale: 2.0 };
        assert_eq!(normalised_camera_values(&all, scaled, 4), None, "other scaling: normalised from the data");
        assert_eq!(normalised_camera_values(&all, Storage { bitpix: -32, bzero: 0.0, bscale: 1.0 }, 4), None);
        assert_eq!(normalised_camera_values(&all[..3], Storage { bitpix: 16, bzero: 0.0, bscale: 1.0 }, 2), None);
    }

    #[test]
    fn the_half_made_while_converting_is_bin_frames_bit_for_bit() {
        // Odd and even sides, 8 and 16 bits; 1501 × 1500 has more than one band per core on a multi-core machine.
        let mut x = 99u32;
        for (w, h, bitpix) in [(1501, 1500, 16), (7, 5, 16), (6, 1, 16), (1, 9, 8), (64, 33, 8)] {
            let bytes: Vec<u8> = (0..w * h * (bitpix as usize / 8))
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let storage = Storage { bitpix, bzero: if bitpix == 16 { 32768.0 } else { 0.0 }, bscale: 1.0 };
            let (values, half) = normalised_camera_values_and_half(&bytes, storage, w, h).unwrap();
            assert_eq!(values, normalised_camera_values(&bytes, storage, w * h).unwrap(), "{w}×{h}");
            let frame = Frame::new(w, h, vec![values], dso_plugin_api::Encoding::Linear).unwrap();
            let want = crate::ops::bin_frame(&frame, 2).unwrap();
            assert_eq!((want.width, want.height), (w.div_ceil(2), h.div_ceil(2)));
            assert!(half.iter().zip(&want.planes[0]).all(|(a, b)| a.to_bits() == b.to_bits()), "{w}×{h}");
            assert_eq!(half.len(), want.planes[0].len());
        }
        let storage = Storage { bitpix: 16, bzero: 0.0, bscale: 1.0 };
        assert_eq!(normalised_camera_values_and_half(&[0; 8], storage, 2, 3), None, "too few bytes");
        assert_eq!(normalised_camera_values_and_half(&[0; 8], storage, 0, 3), None, "no samples");
    }

    #[test]
    fn every_bitpix_with_scaling() {
        assert_eq!(physical_values(&[0, 7, 255], 8, 3, 0.0, 1.0), Some(vec![0.0, 7.0, 255.0]));
        let i16s: Vec<u8> = [-32768i16, -1, 0, 32767].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(physical_values(&i16s, 16, 4, 32768.0, 1.0), Some(vec![0.0, 32767.0, 32768.0, 65535.0]));
        assert_eq!(physical_values(&i16s, 16, 2, 0.0, 0.5), Some(vec![-16384.0, -0.5]));
        let i32s: Vec<u8> = [i32::MIN, 5].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(physical_values(&i32s, 32, 2, 2_147_483_648.0, 1.0), Some(vec![0.0, 2_147_483_653.0]));
        let f32s: Vec<u8> = [0.25f32, f32::NAN, -3.0].iter().flat_map(|v| v.to_be_bytes()).collect();
        let got = physical_values(&f32s, -32, 3, 1.0, 2.0).unwrap();
        assert_eq!((got[0], got[2]), (1.5, -5.0));
        assert!(got[1].is_nan(), "NaN stays NaN (a blank float sample)");
        let f64s: Vec<u8> = [1e-3f64].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(physical_values(&f64s, -64, 1, 0.0, 1.0), Some(vec![1e-3f64 as f32]));
    }

    #[test]
    fn declines_what_it_does_not_handle() {
        assert_eq!(physical_values(&[0; 16], 64, 2, 0.0, 1.0), None, "64-bit integers");
        assert_eq!(physical_values(&[0; 3], 16, 2, 0.0, 1.0), None, "too few bytes");
        assert_eq!(physical_values(&[0; 4], 16, usize::MAX, 0.0, 1.0), None, "overflowing count");
        assert_eq!(physical_values(&[], 16, 0, 0.0, 1.0), Some(vec![]));
    }

    #[test]
    fn bands_join_in_order() {
        // Large enough for several threads on a multi-core machine.
        let n = 3 * MIN_PER_THREAD + 17;
        let bytes: Vec<u8> = (0..n).flat_map(|i| ((i % 65536) as u16 as i16).to_be_bytes()).collect();
        let v = physical_values(&bytes, 16, n, 0.0, 1.0).unwrap();
        assert!(v.iter().enumerate().all(|(i, &x)| x == f32::from((i % 65536) as u16 as i16)));
    }
}
