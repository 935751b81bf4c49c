//! Frames that never arrive: the camera says its exposures end, but no image reaches the driver.
//!
//! The usual cause is a camera on another indiserver chained to this one (`indiserver "CCD Simulator@pi:7624"
//! indi_dso_detector`): the chained server forwards the camera's ordinary properties — so the camera looks present and
//! its `CCD_EXPOSURE` goes Busy → Ok — but forwards its BLOBs only while a *client* of this server has enabled them; the
//! driver's own `enableBLOB` does not travel upstream (measured with a real INDI 2.2.4 pair, `../shared/INDI-NOTES.md`).
//! The snooped name is the plain device name either way, so the chain cannot be seen in it; what can be seen is
//! exposures ending without frames. After [`MISSING_EXPOSURES`] such exposures in a row the driver says so once per
//! camera, with what to do. An image one exposure late (an indiserver that sends the state before the BLOB) never
//! trips it: any frame resets the count.

use crate::indi::PropertyState;

/// Exposures that end with no frame in between before the warning: two, so that a BLOB arriving after its
/// exposure's end is never taken for a missing one.
pub const MISSING_EXPOSURES: u32 = 2;

/// What the driver saw of the snooped camera's exposures and frames since it started snooping it.
#[derive(Clone, Debug, Default)]
pub struct FrameWatch {
    /// `CCD_EXPOSURE` was last Busy (an exposure is running).
    exposing: bool,
    /// Exposures that ended (Busy → Ok) since the last frame.
    ended_without_frame: u32,
    /// The warning was given for this camera.
    warned: bool,
}

impl FrameWatch {
    /// Forgets everything: a new camera is snooped.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The camera's `CCD_EXPOSURE` state changed. Returns the number of exposures that ended without a frame when the
    /// warning is due now (once per camera).
    pub fn exposure_state(&mut self, state: PropertyState) -> Option<u32> {
        match state {
            PropertyState::Busy => self.exposing = true,
            PropertyState::Ok if self.exposing => {
                self.exposing = false;
                self.ended_without_frame += 1;
                if self.ended_without_frame >= MISSING_EXPOSURES && !self.warned {
                    self.warned = true;
                    return Some(self.ended_without_frame);
                }
            }
            // Aborted or failed exposures (Alert, Idle) produce no frame: they do not count.
            _ => self.exposing = false,
        }
        None
    }

    /// A frame of the camera arrived (a BLOB with data, or the path of a file it saved).
    pub fn frame(&mut self) {
        self.ended_without_frame = 0;
    }
}

/// The warning's text (without the `[WARNING] ` prefix).
pub fn warning(camera: &str, exposures: u32) -> String {
    format!(
        "frames from {camera} never arrive: {exposures} exposures ended without an image reaching this driver. If the \
         camera runs on another indiserver chained to this one (\"{camera}@host:port\"), its images reach this server \
         only while a client here enables the camera's BLOBs, and slowly (a 23 MB frame takes about 10 s): run DSO \
         Detector on the camera's own indiserver instead (README: On a remote INDI server)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use PropertyState::{Alert, Busy, Idle, Ok};

    fn run(watch: &mut FrameWatch, states: &[PropertyState]) -> Vec<u32> {
        states.iter().filter_map(|s| watch.exposure_state(*s)).collect()
    }

    #[test]
    fn two_exposures_without_a_frame_warn_once() {
        let mut w = FrameWatch::default();
        assert_eq!(run(&mut w, &[Busy, Ok]), Vec::<u32>::new());
        assert_eq!(run(&mut w, &[Busy, Ok]), vec![2]);
        assert_eq!(run(&mut w, &[Busy, Ok, Busy, Ok]), Vec::<u32>::new(), "said once per camera");
    }

    #[test]
    fn frames_that_arrive_never_warn_even_one_exposure_late() {
        let mut w = FrameWatch::default();
        for _ in 0..10 {
            assert_eq!(run(&mut w, &[Busy, Busy, Ok]), Vec::<u32>::new());
            w.frame(); // the image after its exposure's end
        }
        let mut w = FrameWatch::default();
        for _ in 0..10 {
            w.frame(); // the image before the end
            assert_eq!(run(&mut w, &[Busy, Ok]), Vec::<u32>::new());
        }
    }

    #[test]
    fn ok_without_busy_and_aborted_exposures_do_not_count() {
        let mut w = FrameWatch::default();
        // Repeated Ok updates (a client re-reading the property, the definition) are not exposures ending.
        assert_eq!(run(&mut w, &[Ok, Ok, Ok, Busy, Alert, Ok, Busy, Idle, Ok]), Vec::<u32>::new());
        assert_eq!(run(&mut w, &[Busy, Ok, Busy, Ok]), vec![2]);
    }

    #[test]
    fn a_new_camera_is_watched_afresh() {
        let mut w = FrameWatch::default();
        assert_eq!(run(&mut w, &[Busy, Ok, Busy, Ok]), vec![2]);
        w.reset();
        assert_eq!(run(&mut w, &[Busy, Ok, Busy, Ok]), vec![2]);
    }

    #[test]
    fn the_warning_names_the_camera_and_the_remedy() {
        let text = warning("ZWO CCD ASI294MC Pro", 2);
        assert!(text.starts_with("frames from ZWO CCD ASI294MC Pro never arrive: 2 exposures"), "{text}");
        assert!(text.contains("camera's own indiserver"), "{text}");
    }
}
