//! Synthetic sky frames written as real FITS files, with the truth known: a galaxy at a chosen place among stars and
//! noise. Tests use them where the answer must be checkable; the real frames of `../shared/data` complement them.
//!
//! Why not `dso_models::naive::synth`, the product's renderer: that one paints normalised planes for tuning the
//! detectors (Sérsic galaxies, Moffat stars, trails); this one writes what a camera sends — 16-bit counts in a FITS
//! file the INDI CCD simulator serves — with the galaxy's box as the truth the tests measure IoU against.
//!
//! Why its own generator and not the product's [`crate::Rng`]: the frames every test and benchmark figure was written
//! against are draws of this xorshift. Drawn with SplitMix64 instead, they change, and two assertions that hold
//! today fail on the new draws (`cli::a_batch_with_a_bad_file_reports_it_and_goes_on`: the naive detector misses
//! the 800×600 galaxy; the example plugin's "brightest" misses the 640×480 one). Keeping the frames is keeping what
//! the tests assert; the generator stays private to this renderer.

/// The renderer's deterministic generator (xorshift), so frames are identical on every run.
struct XorShift(u64);

impl XorShift {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform().max(1e-7), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// A 16-bit linear frame: sky + noise + stars + one elliptical galaxy.
pub struct Sky {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Counts, 0–65535.
    pub data: Vec<u16>,
    /// The galaxy's box `(x, y, w, h)` in pixels, origin top-left (about 3 scale lengths).
    pub galaxy: (f32, f32, f32, f32),
}

impl Sky {
    /// Renders a frame with the galaxy centred at `(cx, cy)` with scale length `r` px.
    pub fn render(width: usize, height: usize, (cx, cy): (f32, f32), r: f32, seed: u64) -> Self {
        let mut rng = XorShift(seed | 1);
        let mut img = vec![0f32; width * height];
        let (bg, noise) = (1200.0, 25.0);
        // Galaxy: exponential disc, axis ratio 0.6, tilted 30°.
        let (ca, sa) = (0.866f32, 0.5f32);
        let half = (4.0 * r) as isize;
        for dy in -half..=half {
            for dx in -half..=half {
                let (x, y) = (cx as isize + dx, cy as isize + dy);
                if x < 0 || y < 0 || x >= width as isize || y >= height as isize {
                    continue;
                }
                let (u, v) = (dx as f32 * ca + dy as f32 * sa, (-dx as f32 * sa + dy as f32 * ca) / 0.6);
                img[y as usize * width + x as usize] += 3000.0 * (-(u * u + v * v).sqrt() / r).exp();
            }
        }
        // Stars: Gaussian PSFs, sigma 1.3 px, fluxes spread over two decades.
        for _ in 0..(width * height / 4000) {
            let (sx, sy) = (rng.uniform() * width as f32, rng.uniform() * height as f32);
            let peak = 500.0 * 10f32.powf(2.0 * rng.uniform());
            for dy in -5..=5 {
                for dx in -5..=5 {
                    let (x, y) = (sx as isize + dx, sy as isize + dy);
                    if x < 0 || y < 0 || x >= width as isize || y >= height as isize {
                        continue;
                    }
                    let d2 = ((x as f32 - sx).powi(2) + (y as f32 - sy).powi(2)) / (2.0 * 1.3 * 1.3);
                    img[y as usize * width + x as usize] += peak * (-d2).exp();
                }
            }
        }
        let data = img.iter().map(|v| (v + bg + noise * rng.normal()).clamp(0.0, 65535.0) as u16).collect();
        let (w, h) = (6.0 * r, 6.0 * r * 0.8);
        Self { width, height, data, galaxy: (cx - w / 2.0, cy - h / 2.0, w, h) }
    }

    /// The frame as a FITS file (BITPIX 16, BZERO 32768, `ROWORDER='TOP-DOWN'`, `PIXSIZE1` so that the INDI CCD
    /// simulator's directory mode accepts it).
    pub fn to_fits(&self) -> Vec<u8> {
        let cards = [
            "SIMPLE  =                    T".to_owned(),
            "BITPIX  =                   16".to_owned(),
            "NAXIS   =                    2".to_owned(),
            format!("NAXIS1  = {:>20}", self.width),
            format!("NAXIS2  = {:>20}", self.height),
            "BZERO   =                32768".to_owned(),
            "BSCALE  =                    1".to_owned(),
            "PIXSIZE1=                 3.76".to_owned(),
            "PIXSIZE2=                 3.76".to_owned(),
            "EXPTIME =                  1.0".to_owned(),
            "ROWORDER= 'TOP-DOWN'".to_owned(),
            "OBJECT  = 'test galaxy'".to_owned(),
            "END".to_owned(),
        ];
        let mut out = Vec::new();
        for c in &cards {
            out.extend_from_slice(format!("{c:<80}").as_bytes());
        }
        out.resize(out.len().div_ceil(2880) * 2880, b' ');
        for v in &self.data {
            out.extend_from_slice(&((*v as i32 - 32768) as i16).to_be_bytes());
        }
        out.resize(out.len().div_ceil(2880) * 2880, 0);
        out
    }
}
