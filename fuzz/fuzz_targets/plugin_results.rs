//! The plugin host's checks of what a plugin's `detect` returns (`dso_models::plugins::detector::read_result`), on
//! results built from the input: boxes with NaN, infinite, negative, huge or out-of-frame values, confidences
//! outside 0–1, labels of arbitrary bytes (no NUL, invalid UTF-8, blank), counts above the limit or at a null
//! pointer, heat maps of the wrong size or with non-finite values. Only pointers that are valid for what they
//! declare are built (as the ABI promises); a count that lies about the memory is the one thing the host cannot
//! check and is not tried.
//!
//! Checked: no panic; `TooMany` and `NullDetections` exactly when the count is over the limit or the pointer null;
//! whatever passes satisfies what the host promises downstream: every detection finite, inside the frame with a
//! positive size, confidence in `0..=1`, a non-blank label without NUL; one detection out per clean one in, a
//! detection dropped only when it is non-finite or outside, and a note for every repair; a heat map only of the
//! frame's size, its values finite and in `0..=1`.
#![no_main]

use std::ffi::c_char;

use dso_models::plugins::detector::{read_result, MAX_DETECTIONS};
use dso_models::plugins::BadResult;
use dso_plugin_api::abi::{DsoDetection, DsoHeatMap, DsoResult, DSO_LABEL_LEN};
use dso_plugin_api::{Encoding, Frame};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// A coordinate or confidence: the values that break arithmetic, the frame's edges, or any bit pattern.
fn value(u: &mut Unstructured, edge: f32) -> Result<f32> {
    Ok(match u.int_in_range(0u8..=15)? {
        0 => f32::NAN,
        1 => f32::INFINITY,
        2 => f32::NEG_INFINITY,
        3 => f32::MAX,
        4 => -f32::MAX,
        5 => f32::MIN_POSITIVE,
        6 => -0.0,
        7 => edge,
        8 => edge + f32::EPSILON * edge.max(1.0),
        9 => edge - 0.5,
        10 => f32::from_bits(u.arbitrary()?),
        11 => u.int_in_range(0u8..=100)? as f32 / 100.0,
        _ => u.int_in_range(-80i16..=80)? as f32 * 0.37,
    })
}

fn label(u: &mut Unstructured) -> Result<[c_char; DSO_LABEL_LEN]> {
    let mut out = [0 as c_char; DSO_LABEL_LEN];
    match u.int_in_range(0u8..=3)? {
        0 => {}
        1 => out[..6].copy_from_slice(&b"galaxy".map(|b| b as c_char)),
        2 => out.iter_mut().for_each(|c| *c = b' ' as c_char),
        _ => {
            for c in out.iter_mut() {
                *c = u.arbitrary::<u8>()? as c_char;
            }
        }
    }
    Ok(out)
}

fn run(u: &mut Unstructured) -> Result<()> {
    let (fw, fh) = (u.int_in_range(1usize..=48)?, u.int_in_range(1usize..=48)?);
    let frame = Frame::new(fw, fh, vec![vec![0.25; fw * fh]], Encoding::Linear).expect("a valid frame");
    let n = u.int_in_range(0usize..=24)?;
    let mut detections = Vec::with_capacity(n);
    for _ in 0..n {
        let (edge_x, edge_y) = (fw as f32, fh as f32);
        detections.push(DsoDetection {
            x: value(u, edge_x)?,
            y: value(u, edge_y)?,
            width: value(u, edge_x)?,
            height: value(u, edge_y)?,
            confidence: value(u, 1.0)?,
            label: label(u)?,
        });
    }
    // The count as the plugin declares it: the truth, or more than any frame has (the host must refuse before
    // reading), or detections "at" a null pointer.
    let (pointer, declared) = match u.int_in_range(0u8..=7)? {
        0 => (std::ptr::null(), u.int_in_range(1usize..=usize::MAX)?),
        1 => (detections.as_ptr(), u.int_in_range(MAX_DETECTIONS + 1..=usize::MAX)?),
        2 => (std::ptr::null(), 0),
        _ => (detections.as_ptr(), n),
    };
    // The heat map: none, the frame's size, or another size (then not read beyond its own size).
    let (mw, mh) = match u.int_in_range(0u8..=3)? {
        0 => (0, 0),
        1 => (u.int_in_range(1usize..=48)?, u.int_in_range(1usize..=48)?),
        _ => (fw, fh),
    };
    let mut map = Vec::with_capacity(mw * mh);
    for _ in 0..mw * mh {
        map.push(if u.ratio(1u8, 4)? { value(u, 1.0)? } else { 0.5 });
    }
    let heatmap = DsoHeatMap {
        width: mw as u32,
        height: mh as u32,
        values: if map.is_empty() { std::ptr::null() } else { map.as_ptr() },
    };
    let result = DsoResult { detections: pointer, n_detections: declared, heatmap };

    let mut notes = Vec::new();
    // SAFETY: the pointers are valid for what they declare, or the count is one the host refuses unread.
    let outcome = unsafe { read_result(&result, &frame, &mut notes) };
    let checked = match outcome {
        Err(BadResult::TooMany(k)) => {
            assert!(k == declared && declared > MAX_DETECTIONS);
            return Ok(());
        }
        Err(BadResult::NullDetections(k)) => {
            assert!(k == declared && pointer.is_null() && declared > 0 && declared <= MAX_DETECTIONS);
            return Ok(());
        }
        Ok(d) => d,
    };
    assert!(declared <= MAX_DETECTIONS && (declared == 0 || !pointer.is_null()), "a bad count passed");
    let inputs: &[DsoDetection] = if declared == 0 { &[] } else { &detections };
    let (w, h) = (fw as f32, fh as f32);
    let mut clean = 0;
    let mut dropped = 0;
    for d in inputs {
        let finite = [d.x, d.y, d.width, d.height, d.confidence].iter().all(|v| v.is_finite());
        // What is left inside the frame, computed as a plugin author would: a box is dropped only when nothing is.
        let overlaps = finite && (d.x + d.width).min(w) > d.x.max(0.0) && (d.y + d.height).min(h) > d.y.max(0.0);
        if !overlaps {
            dropped += 1;
        }
        let inside = d.x >= 0.0 && d.y >= 0.0 && d.x + d.width <= w && d.y + d.height <= h;
        if overlaps && inside && (0.0..=1.0).contains(&d.confidence) {
            clean += 1;
        }
    }
    assert_eq!(checked.objects.len(), inputs.len() - dropped, "detections dropped that overlap the frame, or kept");
    if clean == inputs.len() && heatmap.values.is_null() {
        assert!(notes.is_empty(), "notes without a repair: {notes:?}");
    }
    if clean < inputs.len() {
        assert!(!notes.is_empty(), "a repair without a note");
    }
    for o in &checked.objects {
        let all = [o.x, o.y, o.width, o.height, o.confidence];
        assert!(all.iter().all(|v| v.is_finite()), "non-finite detection passed: {o:?}");
        assert!(o.x >= 0.0 && o.y >= 0.0 && o.width > 0.0 && o.height > 0.0, "empty or negative box: {o:?}");
        assert!(o.x + o.width <= w && o.y + o.height <= h, "box outside the {w}×{h} frame: {o:?}");
        assert!((0.0..=1.0).contains(&o.confidence), "confidence outside 0..=1: {o:?}");
        assert!(!o.label.trim().is_empty() && !o.label.contains('\0'), "bad label: {o:?}");
    }
    match &checked.heatmap {
        Some(m) => {
            assert!((mw, mh) == (fw, fh), "a heat map of another size passed");
            assert_eq!((m.width, m.height, m.values.len()), (fw, fh, fw * fh));
            assert!(m.values.iter().all(|v| (0.0..=1.0).contains(v)), "heat-map value outside 0..=1");
        }
        None => assert!(map.is_empty() || (mw, mh) != (fw, fh), "the frame's heat map was dropped"),
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
