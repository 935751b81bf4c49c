//! Snooping the camera (libindi's `IDSnoopDevice` and `ISSnoopDevice`): which of its properties the device asks the
//! server for, and the frames that arrive from it — image BLOBs, or the paths of files a camera in `UPLOAD_LOCAL`
//! mode saved — queued for the worker with the settings in force. The mount's pointing is snooped in
//! `identify.rs`; the camera's exposures are watched in `arrival.rs`.

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use crate::indi::{
    format_timestamp, shorten, BlobEnable, DefVector, EnableBlob, GetProperties, Message, PropertyState, SetVector,
    Values,
};
use crate::pipeline::{Origin, Source};
use crate::worker::{Job, Payload};

use super::{arrival, identify, Device, Level, CCD_BLOB, CCD_EXPOSURE, CCD_FILE_PATH, UPLOAD_SETTINGS};

impl Device {
    /// Asks the server for the camera's image and its BLOBs, after stopping the previous camera's BLOBs.
    pub(super) fn snoop(&mut self) {
        let ccd = self.active_ccd();
        if self.snooped_ccd.as_deref() == Some(ccd.as_str()) {
            return;
        }
        self.upload_dir = None;
        self.frame_watch.reset();
        if let Some(old) = self.snooped_ccd.take() {
            self.outbox.push(Message::EnableBlob(EnableBlob {
                device: old,
                name: Some(CCD_BLOB.into()),
                mode: BlobEnable::Never,
            }));
        }
        if ccd.is_empty() {
            return;
        }
        for name in [CCD_BLOB, CCD_FILE_PATH, UPLOAD_SETTINGS, CCD_EXPOSURE] {
            self.outbox.push(Message::GetProperties(GetProperties {
                version: Some("1.7".into()),
                device: Some(ccd.clone()),
                name: Some(name.into()),
            }));
        }
        self.outbox.push(Message::EnableBlob(EnableBlob {
            device: ccd.clone(),
            name: Some(CCD_BLOB.into()),
            mode: BlobEnable::Also,
        }));
        for name in identify::CAMERA_PROPERTIES {
            self.outbox.push(Message::GetProperties(GetProperties {
                version: Some("1.7".into()),
                device: Some(ccd.clone()),
                name: Some((*name).into()),
            }));
        }
        self.snooped_ccd = Some(ccd);
    }

    /// Handles a property definition the server forwards from a snooped device: the camera's upload directory.
    pub fn snooped_def(&mut self, def: &DefVector) {
        if def.name == UPLOAD_SETTINGS && Some(def.device.as_str()) == self.snooped_ccd.as_deref() {
            if let crate::indi::DefElements::Text(texts) = &def.elements {
                if let Some(dir) = texts.iter().find(|t| t.name == "UPLOAD_DIR") {
                    self.set_upload_dir(&dir.value);
                }
            }
        }
    }

    fn set_upload_dir(&mut self, value: &str) {
        let dir = crate::local_file::upload_dir(value);
        if dir != self.upload_dir {
            let shown = dir.as_ref().map_or("unknown".into(), |d| shorten(&d.display().to_string()));
            self.log(Level::Debug, &format!("camera upload directory: {shown}"));
            self.upload_dir = dir;
        }
    }

    /// Handles what the server forwards from snooped devices (libindi's `ISSnoopDevice`): the camera's image.
    pub fn snooped(&mut self, set: SetVector, received: Instant) {
        if self.snooped_sky(&set) || Some(set.device.as_str()) != self.snooped_ccd.as_deref() {
            return;
        }
        if set.name == UPLOAD_SETTINGS {
            if let Values::Text(texts) = &set.values {
                if let Some(dir) = texts.iter().find(|t| t.name == "UPLOAD_DIR") {
                    self.set_upload_dir(&dir.value);
                }
            }
            return;
        }
        if !self.is_connected() {
            return;
        }
        if set.name == CCD_EXPOSURE {
            if let Some(n) = set.state.and_then(|s| self.frame_watch.exposure_state(s)) {
                self.log(Level::Warning, &arrival::warning(&set.device, n));
            }
            return;
        }
        if set.name == CCD_FILE_PATH {
            if set.state == Some(PropertyState::Ok) {
                self.frame_watch.frame();
            }
            return self.snooped_file(set, received);
        }
        if set.name != CCD_BLOB {
            return;
        }
        let Values::Blob(blobs) = set.values else { return };
        let Some(blob) = blobs.into_iter().find(|b| !b.data.is_empty()) else { return };
        self.frame_watch.frame();
        let origin = Origin::Camera { device: set.device, property: set.name };
        self.log(Level::Debug, &format!("frame from {origin}: {} bytes, {}", blob.data.len(), shorten(&blob.format)));
        self.queue_frame(blob, origin, received);
    }

    /// A camera in `UPLOAD_LOCAL` mode saved a frame on this machine and says where: analyse the file. indiserver
    /// forwards a client's forged `CCD_FILE_PATH` as it forwards the camera's, so only image file names are taken,
    /// and the worker reads only a regular file in the camera's upload directory within the frame limit
    /// ([`crate::local_file`]).
    fn snooped_file(&mut self, set: SetVector, received: Instant) {
        if set.state != Some(PropertyState::Ok) {
            return;
        }
        let Values::Text(texts) = set.values else { return };
        let Some(path) = texts.into_iter().find(|t| t.name == "FILE_PATH").map(|t| t.value.trim().to_owned()) else {
            return;
        };
        if path.is_empty() {
            return;
        }
        if !dso_models::decode::is_image_name(&path) {
            self.log(Level::Debug, &format!("{}: not an image file, ignored", shorten(&path)));
            return;
        }
        let format = dso_models::decode::format_from_path(&path);
        let (detector, selection, outputs) = self.current_job_settings();
        let origin = Origin::Camera { device: set.device, property: CCD_FILE_PATH.to_owned() };
        let naming = self.naming(&origin);
        let source = Source { origin, format, timestamp: format_timestamp(SystemTime::now()), received };
        let payload = Payload::File { path: PathBuf::from(path), upload_dir: self.upload_dir.clone() };
        let choice = self.detector_choices;
        self.jobs.push(Job { payload, source, detector, choice, selection, outputs, naming });
    }
}
