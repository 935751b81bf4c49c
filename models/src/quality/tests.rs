//! Triage on rendered frames whose truth is known.

use super::synth::{render, Conditions, Field, TrailSpec};
use super::*;
use crate::naive::synth::Galaxy;

fn field() -> Field {
    Field::new(1024, 768, 12.0, 7)
}

fn frame(c: &Conditions, trails: &[TrailSpec], seed: u64) -> Measures {
    measure(&render(&field(), c, trails, seed), &Params::default())
}

#[test]
fn width_and_shape_match_the_rendered_stars() {
    for fwhm in [2.5f32, 4.0, 6.0] {
        let m = frame(&Conditions { fwhm, ..Conditions::default() }, &[], 1);
        let got = m.fwhm.expect("stars measured");
        assert!((got / fwhm - 1.0).abs() < 0.15, "FWHM {fwhm}: measured {got}");
        assert!(m.elongation.unwrap() < 1.15, "round stars: {:?}", m.elongation);
        assert!(m.measured_stars >= 20, "{m:?}");
    }
    let m = frame(&Conditions { trailing: 5.0, trailing_angle: 30.0, ..Conditions::default() }, &[], 2);
    assert!(m.elongation.unwrap() > 1.5, "trailed: {:?}", m.elongation);
    let a = m.orientation.unwrap();
    assert!((a - 30.0).abs() < 8.0, "orientation {a}");
}

#[test]
fn background_noise_and_stars_follow_the_conditions() {
    let clear = frame(&Conditions::default(), &[], 3);
    assert!((clear.background - 1000.0).abs() < 15.0, "{}", clear.background);
    assert!((clear.noise - 33.2).abs() < 3.0, "{}", clear.noise);
    let cloudy = frame(&Conditions { transparency: 0.3, ..Conditions::default() }, &[], 3);
    assert!(cloudy.background > clear.background + 200.0);
    assert!((cloudy.stars as f32) < 0.6 * clear.stars as f32, "{} vs {}", cloudy.stars, clear.stars);
    assert!(clear.stars > 120, "{}", clear.stars);
}

#[test]
fn hot_pixels_are_not_stars() {
    let f = field();
    let mut frame = render(&Field { stars: Vec::new(), ..f }, &Conditions::default(), &[], 4);
    for i in 0..500 {
        let (x, y) = (17 + (i * 37) % 990, 11 + (i * 53) % 740);
        frame.planes[0][y * 1024 + x] = 0.5;
    }
    let m = measure(&frame, &Params::default());
    assert!(m.stars < 5, "{} stars in a starless frame with hot pixels", m.stars);
}

#[test]
fn a_trail_is_found_with_its_ends() {
    let t = TrailSpec { a: (100.0, 80.0), b: (900.0, 600.0), peak_sigma: 3.0 };
    let m = frame(&Conditions::default(), &[t], 5);
    assert_eq!(m.trails.len(), 1, "{:?}", m.trails);
    let tr = &m.trails[0];
    let near = |(x, y): (f32, f32), (u, v): (f32, f32)| (x - u).hypot(y - v) < 25.0;
    let ends = [(tr.x0, tr.y0), (tr.x1, tr.y1)];
    assert!((near(ends[0], t.a) && near(ends[1], t.b)) || (near(ends[0], t.b) && near(ends[1], t.a)), "{tr:?}");
    assert!(tr.confidence > 0.5, "{tr:?}");
}

#[test]
fn no_trail_in_a_clean_frame() {
    for seed in 10..14 {
        let m = frame(&Conditions::default(), &[], seed);
        assert!(m.trails.is_empty(), "seed {seed}: {:?}", m.trails);
    }
}

#[test]
fn diffraction_spikes_are_not_trails() {
    let bright = [(200.0, 200.0), (600.0, 400.0), (850.0, 150.0), (300.0, 600.0)];
    let f = Field { spikes: Some(20.0), ..field() }.with_bright_stars(&bright, 8.0);
    for seed in 20..23 {
        let m = measure(&render(&f, &Conditions::default(), &[], seed), &Params::default());
        assert!(m.trails.is_empty(), "seed {seed}: {:?}", m.trails);
    }
    // …while a real trail through the same field is still found.
    let t = TrailSpec { a: (0.0, 300.0), b: (1023.0, 500.0), peak_sigma: 2.0 };
    let m = measure(&render(&f, &Conditions::default(), &[t], 24), &Params::default());
    assert_eq!(m.trails.len(), 1, "{:?}", m.trails);
}

#[test]
fn edge_on_galaxies_are_not_trails() {
    let mut f = field();
    for (i, (x, y, a)) in [(300.0, 300.0, 0.3f32), (700.0, 500.0, 2.0)].into_iter().enumerate() {
        let re = 30.0 + 15.0 * i as f32;
        f.galaxies.push(Galaxy { x, y, peak: 0.02, re, n: 1.0, q: 0.1, angle: a });
    }
    for seed in 30..33 {
        let m = measure(&render(&f, &Conditions::default(), &[], seed), &Params::default());
        assert!(m.trails.is_empty(), "seed {seed}: {:?}", m.trails);
    }
}

fn session_of_good_frames(n: usize) -> Session {
    let mut s = Session::default();
    for i in 0..n {
        let c =
            Conditions { fwhm: 2.5 + 0.1 * (i % 3) as f32, dither: (i as f32, -(i as f32)), ..Conditions::default() };
        let v = s.judge(&frame(&c, &[], 100 + i as u64));
        assert_eq!(v.level, Level::Good, "frame {i}: {}", v.summary());
    }
    s
}

#[test]
fn verdicts_name_what_went_wrong() {
    let s = session_of_good_frames(4);
    let judge = |c: Conditions, trails: &[TrailSpec]| s.compare(&frame(&c, trails, 200));
    let clouds = judge(Conditions { transparency: 0.3, ..Conditions::default() }, &[]);
    assert_eq!(clouds.level, Level::Reject, "{}", clouds.summary());
    assert!(clouds.has("clouds") && clouds.summary().contains("clouds: background +"), "{}", clouds.summary());
    let focus = judge(Conditions { fwhm: 4.5, ..Conditions::default() }, &[]);
    assert!(focus.has("focus") && !focus.has("clouds"), "{}", focus.summary());
    assert!(focus.summary().contains("focus drifted: FWHM +"), "{}", focus.summary());
    let tracking = judge(Conditions { trailing: 6.0, trailing_angle: 75.0, ..Conditions::default() }, &[]);
    assert_eq!(tracking.level, Level::Reject, "{}", tracking.summary());
    assert!(tracking.has("tracking") && !tracking.has("clouds"), "{}", tracking.summary());
    let t = TrailSpec { a: (50.0, 700.0), b: (1000.0, 100.0), peak_sigma: 4.0 };
    let trail = judge(Conditions::default(), &[t]);
    assert_eq!(trail.level, Level::Marginal, "{}", trail.summary());
    assert_eq!(trail.reasons_text(), "trail in frame");
    let good = judge(Conditions::default(), &[]);
    assert_eq!(good.summary(), "good");
}

#[test]
fn thresholds_change_the_verdict() {
    let mut s = session_of_good_frames(3);
    s.thresholds.focus_marginal = 200.0;
    s.thresholds.focus_reject = 300.0;
    let v = s.compare(&frame(&Conditions { fwhm: 4.5, ..Conditions::default() }, &[], 300));
    assert!(!v.has("focus"), "{}", v.summary());
}

#[test]
fn flat_tiny_and_odd_frames_do_not_panic() {
    use dso_plugin_api::{Encoding, Frame};
    for (w, h) in [(1, 1), (3, 2), (40, 20), (2000, 5)] {
        let f = Frame::new(w, h, vec![vec![0.1; w * h]], Encoding::Linear).unwrap();
        let m = measure(&f, &Params::default());
        assert_eq!(m.stars, 0);
        assert!(m.trails.is_empty());
    }
    let nan = Frame::new(64, 64, vec![vec![f32::NAN; 64 * 64]], Encoding::Linear).unwrap();
    let m = measure(&nan, &Params::default());
    assert_eq!(m.stars, 0);
    let s = Session::default().compare(&m);
    assert_eq!(s.level, Level::Good);
}

#[test]
fn a_short_trail_passing_a_spiked_star_is_found_to_its_ends() {
    // Spikes at 20° and 110°; the trail runs at about 61°, 8 px beside a saturated star, and stops short of
    // another star's halo: neither the spikes' test nor a star's bump past its end may take it.
    let bright = [(500.0, 400.0), (590.0, 590.0)];
    let f = Field { spikes: Some(20.0), ..field() }.with_bright_stars(&bright, 8.0);
    let t = TrailSpec { a: (400.0, 230.0), b: (560.0, 520.0), peak_sigma: 8.0 };
    for seed in 30..33 {
        let m = measure(&render(&f, &Conditions::default(), &[t], seed), &Params::default());
        assert_eq!(m.trails.len(), 1, "seed {seed}: {:?}", m.trails);
        let tr = &m.trails[0];
        let near = |(x, y): (f32, f32), (u, v): (f32, f32)| (x - u).hypot(y - v) < 20.0;
        let ends = [(tr.x0, tr.y0), (tr.x1, tr.y1)];
        assert!(
            (near(ends[0], t.a) && near(ends[1], t.b)) || (near(ends[0], t.b) && near(ends[1], t.a)),
            "seed {seed}: {tr:?}"
        );
    }
}
