//! Pixel checks of annotations: box colours on the edges and nowhere far from them, tag text near the tag, clipping,
//! JPEG/PNG that decode back to the right size, heat-map colours at 0 and 1.

use dso_plugin_api::{Detection, Encoding, Frame, HeatMap};
use image::{Rgb, RgbImage};

use super::*;
use crate::stretch::auto_stretch;

fn grey_frame(w: usize, h: usize, v: f32) -> Frame {
    Frame::new(w, h, vec![vec![v; w * h]], Encoding::Stretched).unwrap()
}

fn det(x: f32, y: f32, w: f32, h: f32, label: &str) -> Detection {
    Detection { x, y, width: w, height: h, label: label.into(), confidence: 0.91 }
}

fn pixels_of(img: &RgbImage, colour: Rgb<u8>) -> Vec<(u32, u32)> {
    img.enumerate_pixels().filter(|(_, _, &p)| p == colour).map(|(x, y, _)| (x, y)).collect()
}

#[test]
fn mono_frames_become_grey_and_stretched_values_are_quantised() {
    let f = Frame::new(2, 1, vec![vec![0.0, 1.0]], Encoding::Stretched).unwrap();
    let img = to_rgb8(&f);
    assert_eq!(img.get_pixel(0, 0), &Rgb([0, 0, 0]));
    assert_eq!(img.get_pixel(1, 0), &Rgb([255, 255, 255]));
    let c = Frame::new(1, 1, vec![vec![1.0], vec![0.5], vec![f32::NAN]], Encoding::Stretched).unwrap();
    assert_eq!(to_rgb8(&c).get_pixel(0, 0), &Rgb([255, 128, 0]));
}

#[test]
fn linear_frames_get_the_auto_stretch() {
    let plane: Vec<f32> = (0..10_000).map(|i| 0.02 + 0.002 * ((i * 7919 % 17) as f32 / 17.0)).collect();
    let linear = Frame::new(100, 100, vec![plane.clone(), plane.clone(), plane], Encoding::Linear).unwrap();
    // Same stretch as auto_stretch, within the one level the 16-bit lookup table may move a value.
    let (direct, via) = (to_rgb8(&linear), to_rgb8(&auto_stretch(&linear)));
    let worst = direct.as_raw().iter().zip(via.as_raw()).map(|(a, b)| a.abs_diff(*b)).max();
    assert!(worst.unwrap_or(0) <= 1, "largest difference {worst:?}");
    let median = {
        let mut v: Vec<u8> = to_rgb8(&linear).pixels().map(|p| p[1]).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    assert!((50..80).contains(&median), "background near a quarter of full scale: {median}");
}

#[test]
fn box_colour_is_on_the_edges_and_not_far_from_them() {
    let mut img = to_rgb8(&grey_frame(400, 300, 0.3));
    let d = det(100.0, 120.0, 80.0, 60.0, "galaxy");
    draw_detections_mut(&mut img, &[d]);
    let colour = LabelKind::Galaxy.colour();
    let line = Style::for_size(400, 300).line as u32;
    // All four edges carry the colour.
    for (x, y) in [(100, 150), (179, 150), (140, 120), (140, 179), (100 + line - 1, 150)] {
        assert_eq!(img.get_pixel(x, y), &colour, "edge pixel ({x}, {y})");
    }
    // Inside the box, away from the lines: untouched.
    assert_eq!(img.get_pixel(140, 150), &Rgb([77, 77, 77]));
    // Every pixel of that colour is on the box outline or in the tag.
    let text = draw::text_size("galaxy 0.91", Style::for_size(400, 300).text);
    for (x, y) in pixels_of(&img, colour) {
        let on_box = (100..180).contains(&x) && (120..180).contains(&y);
        let in_tag = (100..100 + text.0 as u32 + 8).contains(&x) && (120 - text.1 as u32 - 4..120).contains(&y);
        assert!(on_box || in_tag, "stray box colour at ({x}, {y})");
    }
}

#[test]
fn tag_text_is_drawn_above_the_box_on_a_dark_panel() {
    let mut img = to_rgb8(&grey_frame(400, 300, 0.5));
    draw_detections_mut(&mut img, &[det(100.0, 150.0, 80.0, 60.0, "nebula")]);
    let colour = LabelKind::Nebula.colour();
    let s = Style::for_size(400, 300);
    let (tw, th) = draw::text_size("nebula 0.91", s.text);
    let tag_top = 150 - (th + 2 * s.text) as u32;
    let text_pixels: Vec<_> = pixels_of(&img, colour).into_iter().filter(|&(_, y)| y < 150).collect();
    assert!(text_pixels.len() > 50, "text drawn: {}", text_pixels.len());
    assert!(text_pixels.iter().all(|&(x, y)| y >= tag_top && (100..100 + tw as u32 + 2 * s.text as u32).contains(&x)));
    // The panel behind the text is darker than the frame.
    assert!(img.get_pixel(100, tag_top)[0] < 60);
}

#[test]
fn tag_moves_inside_when_the_box_touches_the_top() {
    let mut img = to_rgb8(&grey_frame(300, 200, 0.5));
    draw_detections_mut(&mut img, &[det(250.0, 0.0, 40.0, 100.0, "cluster")]);
    let colour = LabelKind::Cluster.colour();
    let lit = pixels_of(&img, colour);
    assert!(!lit.is_empty());
    // The tag is pushed left so it ends inside the frame, and its text sits below the top line.
    let (tw, _) = draw::text_size("cluster 0.91", Style::for_size(300, 200).text);
    assert!(lit.iter().any(|&(x, y)| x < 250 && y > 2), "tag shifted into the frame");
    assert!(lit.iter().all(|&(x, _)| x >= 300 - tw as u32 - 4 || x >= 250));
}

#[test]
fn boxes_outside_or_absurd_never_panic() {
    let mut img = to_rgb8(&grey_frame(64, 48, 0.2));
    let before = img.clone();
    let odd = [
        det(-50.0, -50.0, 10.0, 10.0, "galaxy"),
        det(1e30, 5.0, 10.0, 10.0, "galaxy"),
        det(f32::NAN, 5.0, 10.0, 10.0, "galaxy"),
        det(5.0, 5.0, f32::INFINITY, f32::NEG_INFINITY, "galaxy"),
        det(f32::INFINITY, 0.0, f32::NEG_INFINITY, 1.0, "galaxy"),
    ];
    draw_detections_mut(&mut img, &odd[..3]);
    assert_eq!(img, before, "boxes wholly outside draw nothing");
    draw_detections_mut(&mut img, &odd);
    // Partly outside: clipped, visible part drawn.
    let mut img = to_rgb8(&grey_frame(64, 48, 0.2));
    draw_detections_mut(&mut img, &[det(40.0, 30.0, 100.0, 100.0, "weird ∑ label")]);
    assert_eq!(img.get_pixel(50, 30), &LabelKind::Other.colour());
    assert_eq!(img.get_pixel(40, 47), &LabelKind::Other.colour());
    let huge = Detection { confidence: f32::NAN, ..det(-1e9, -1e9, 2e9, 2e9, "") };
    draw_detections_mut(&mut img, &[huge]);
}

#[test]
fn annotated_jpeg_decodes_back_at_full_size() {
    let f = grey_frame(320, 200, 0.25);
    let bytes = annotated_jpeg(&f, &[det(10.0, 40.0, 100.0, 50.0, "galaxy")], 85, 320).unwrap();
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (320, 200));
    // The box survives JPEG: its left edge is yellow-ish.
    let p = img.get_pixel(10, 65);
    assert!(p[0] > 180 && p[1] > 170 && p[2] < 140, "{p:?}");
    let empty = Frame { width: 0, height: 0, planes: vec![], encoding: Encoding::Stretched, header: vec![] };
    assert!(annotated_jpeg(&empty, &[], 85, 0).is_err());
}

#[test]
fn large_frames_give_a_binned_preview_with_the_boxes_scaled() {
    // 900×600, left half dark and right half bright, limit 300 → binned by 3 → 300×200.
    let plane: Vec<f32> = (0..900 * 600).map(|i| if i % 900 < 450 { 0.1 } else { 0.8 }).collect();
    let f = Frame::new(900, 600, vec![plane], Encoding::Stretched).unwrap();
    let bytes = annotated_jpeg(&f, &[det(30.0, 120.0, 300.0, 150.0, "galaxy")], 90, 300).unwrap();
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (300, 200));
    // Grey levels survive the binning (block means), away from the box and the step.
    assert!(img.get_pixel(60, 190)[1].abs_diff(26) <= 3, "{:?}", img.get_pixel(60, 190));
    assert!(img.get_pixel(250, 190)[1].abs_diff(204) <= 3, "{:?}", img.get_pixel(250, 190));
    // The box's left edge is at x = 30 / 3 = 10 in the preview, its top at 40, its bottom at 90.
    let yellow = |p: &Rgb<u8>| p[0] > 180 && p[1] > 170 && p[2] < 140;
    assert!(yellow(img.get_pixel(10, 65)), "{:?}", img.get_pixel(10, 65));
    assert!(!yellow(img.get_pixel(30, 65)), "{:?}", img.get_pixel(30, 65));
    assert!(yellow(img.get_pixel(60, 89)), "{:?}", img.get_pixel(60, 89));
    // No limit, or a frame already small enough: full size.
    let full = annotated_jpeg(&f, &[], 85, 0).unwrap();
    let full = image::load_from_memory_with_format(&full, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((full.width(), full.height()), (900, 600));
    let same = annotated_jpeg(&f, &[], 85, 900).unwrap();
    assert_eq!(image::load_from_memory_with_format(&same, image::ImageFormat::Jpeg).unwrap().width(), 900);
}

#[test]
fn heat_map_colours_at_zero_and_one() {
    let map = HeatMap { width: 2, height: 1, values: vec![0.0, 1.0] };
    let img = heatmap_rgb8(&map, None).unwrap();
    assert_eq!(img.get_pixel(0, 0), &colormap::inferno(0.0));
    assert_eq!(img.get_pixel(1, 0), &colormap::inferno(1.0));
    // Over a frame: 0 shows the frame, 1 the map.
    let bg = grey_frame(2, 1, 0.5);
    let img = heatmap_rgb8(&map, Some(&bg)).unwrap();
    assert_eq!(img.get_pixel(0, 0), &Rgb([128, 128, 128]));
    assert_eq!(img.get_pixel(1, 0), &colormap::inferno(1.0));
    let half = heatmap_rgb8(&HeatMap { width: 1, height: 1, values: vec![0.5] }, Some(&grey_frame(1, 1, 0.0)));
    let expect = colormap::inferno(0.5).0.map(|c| f32::from(c) * 0.5);
    let got = half.unwrap().get_pixel(0, 0).0;
    assert!(got.iter().zip(expect).all(|(&g, e)| (f32::from(g) - e).abs() <= 1.0), "{got:?} vs {expect:?}");
}

#[test]
fn heat_map_png_round_trips_and_checks_sizes() {
    let values: Vec<f32> = (0..50 * 40).map(|i| (i % 50) as f32 / 49.0).collect();
    let map = HeatMap { width: 50, height: 40, values };
    let bytes = heatmap_png(&map, Some(&grey_frame(50, 40, 0.1)), 0).unwrap();
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (50, 40));
    assert_eq!(img.get_pixel(49, 0), &colormap::inferno(1.0));
    assert!(matches!(heatmap_png(&map, Some(&grey_frame(10, 10, 0.1)), 0), Err(AnnotateError::Size(_))));
    assert!(matches!(heatmap_png(&map, Some(&grey_frame(10, 10, 0.1)), 5), Err(AnnotateError::Size(_))));
    let bad = HeatMap { width: 3, height: 3, values: vec![0.0; 4] };
    assert!(matches!(heatmap_png(&bad, None, 2), Err(AnnotateError::Size(_))));
    // Binned: 50×40 limited to 25 → 25×20, the hottest column (values 48/49 and 1) still bright at the right.
    let small = heatmap_png(&map, Some(&grey_frame(50, 40, 0.1)), 25).unwrap();
    let small = image::load_from_memory_with_format(&small, image::ImageFormat::Png).unwrap().to_rgb8();
    assert_eq!(small.dimensions(), (25, 20));
    let right = small.get_pixel(24, 0);
    let expect = colormap::inferno(0.99).0;
    assert!(right.0.iter().zip(expect).all(|(&g, e)| g.abs_diff(e) <= 6), "{right:?} vs {expect:?}");
    assert_eq!(heatmap_png(&map, None, 25).map(|b| b.len() > 8), Ok(true));
    let nan = HeatMap { width: 1, height: 1, values: vec![f32::NAN] };
    assert_eq!(heatmap_rgb8(&nan, None).unwrap().get_pixel(0, 0), &colormap::inferno(0.0));
}

#[test]
fn styles_scale_with_the_frame() {
    assert_eq!(Style::for_size(1080, 1920), Style { line: 3, text: 3 });
    assert_eq!(Style::for_size(10, 10), Style { line: 2, text: 1 });
    assert_eq!(LabelKind::of("Planetary Nebula"), LabelKind::Nebula);
    assert_eq!(LabelKind::of("open cluster"), LabelKind::Cluster);
}

/// Best of `runs` timings of `f`, in milliseconds.
fn best_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let t = std::time::Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::MAX, f64::min)
}

/// Timings for the report; run with `cargo test --release -p dso-models bench_ -- --ignored --nocapture
/// --test-threads=1`.
#[test]
#[ignore = "benchmark: prints timings, asserts nothing about them"]
fn bench_annotate_4096() {
    let n = 4096;
    let plane: Vec<f32> = (0..n * n).map(|i| 0.02 + 0.01 * ((i * 7919 % 97) as f32 / 97.0)).collect();
    let linear = Frame::new(n, n, vec![plane.clone(), plane.clone(), plane.clone()], Encoding::Linear).unwrap();
    let stretched = Frame { encoding: Encoding::Stretched, ..linear.clone() };
    let dets: Vec<Detection> = (0..20).map(|i| det(100.0 + 180.0 * i as f32, 300.0, 400.0, 250.0, "galaxy")).collect();
    let map =
        HeatMap { width: n, height: n, values: (0..n * n).map(|i| ((i % n) as f32 / n as f32).powi(2)).collect() };
    let img = to_rgb8(&stretched);
    eprintln!("{n}×{n} colour, best of 5:");
    eprintln!("  to_rgb8 (stretched) {:.0} ms", best_ms(5, || to_rgb8(&stretched)));
    eprintln!("  to_rgb8 (linear, auto stretch) {:.0} ms", best_ms(5, || to_rgb8(&linear)));
    eprintln!("  binned by 2 {:.0} ms", best_ms(5, || crate::ops::bin_frame(&linear, 2)));
    eprintln!("  draw 20 boxes {:.1} ms", best_ms(5, || draw_detections_mut(&mut img.clone(), &dets)));
    eprintln!("  annotated_jpeg (linear, q85) {:.0} ms", best_ms(5, || annotated_jpeg(&linear, &dets, 85, 0).unwrap()));
    eprintln!(
        "  annotated_jpeg (linear, q85, ≤ {DEFAULT_MAX_SIDE} px) {:.0} ms",
        best_ms(5, || annotated_jpeg(&linear, &dets, 85, DEFAULT_MAX_SIDE).unwrap())
    );
    eprintln!("  heatmap_rgb8 over the frame {:.0} ms", best_ms(5, || heatmap_rgb8(&map, Some(&linear)).unwrap()));
    eprintln!("  heatmap_png over the frame {:.0} ms", best_ms(5, || heatmap_png(&map, Some(&linear), 0).unwrap()));
    eprintln!(
        "  heatmap_png over the frame, ≤ {DEFAULT_MAX_SIDE} px {:.0} ms",
        best_ms(5, || heatmap_png(&map, Some(&linear), DEFAULT_MAX_SIDE).unwrap())
    );
}

#[test]
fn trails_are_drawn_beside_the_line_and_clipped() {
    use crate::quality::Trail;
    let mut img = RgbImage::new(200, 100);
    let t = |x0, y0, x1, y1| Trail { x0, y0, x1, y1, snr: 50.0, confidence: 0.96 };
    draw_trails_mut(&mut img, &[t(0.0, 50.0, 199.0, 50.0), t(f32::NAN, 0.0, 1.0, 1.0), t(-1e9, -1e9, 1e9, 1e9)]);
    // The trail's own pixels stay as they were; the lines run a few pixels to each side.
    assert_eq!(*img.get_pixel(100, 50), Rgb([0, 0, 0]));
    let magenta = |y: u32| (90..110).any(|x| *img.get_pixel(x, y) == TRAIL_COLOUR);
    assert!((38..50).any(magenta), "no line above");
    assert!((51..62).any(magenta), "no line below");
    assert!(!magenta(50));
}

#[test]
fn the_picture_from_the_shared_half_plane_matches_the_picture_from_the_frame() {
    // A linear 64×48 frame with structure; pictures 32 px (factor 2) and 16 px (factor 4) wide.
    let data: Vec<f32> =
        (0..64 * 48).map(|i| 0.05 + ((i * 7919) % 101) as f32 / 2000.0 + (i % 64) as f32 / 640.0).collect();
    let frame = Frame::new(64, 48, vec![data], Encoding::Linear).unwrap();
    let half = crate::ops::bin_frame(&frame, 2).unwrap();
    // Factor 2: the half plane is the picture's own binning, so the pictures are the same.
    let a = Preview::of(&frame, 32).unwrap();
    let b = Preview::of_with_half(&frame, 32, Some(&half)).unwrap();
    assert_eq!((a.factor, b.factor), (2, 2));
    assert_eq!(a.image, b.image);
    // Factor 4: block means of block means, the same up to rounding (one display level).
    let a = Preview::of(&frame, 16).unwrap();
    let b = Preview::of_with_half(&frame, 16, Some(&half)).unwrap();
    assert_eq!((a.factor, b.factor), (4, 4));
    assert!(a.image.as_raw().iter().zip(b.image.as_raw()).all(|(x, y)| x.abs_diff(*y) <= 1));
    // A plane of another size, or an odd factor (3: 22×16), is not used.
    let other = crate::ops::bin_frame(&half, 2).unwrap();
    assert_eq!(Preview::of_with_half(&frame, 32, Some(&other)).unwrap().image, Preview::of(&frame, 32).unwrap().image);
    let odd = Preview::of_with_half(&frame, 22, Some(&half)).unwrap();
    assert_eq!((odd.factor, odd.image.width()), (3, 22));
}
