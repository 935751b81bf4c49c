//! The device's properties, listed once: an id for each, its INDI name, whether it is one of the standard
//! properties every driver has (defined always) or a detection property (defined while connected), and whether it
//! is saved in the configuration file.
//!
//! libindi drivers keep their properties as members and repeat them in `ISGetProperties`, `updateProperties`,
//! `ISNewXXX` and `saveConfigItems`; every list of properties here (what `getProperties` defines, what a connection
//! defines and deletes, what is saved and restored, which property a refused change puts in Alert) is derived from
//! [`Prop::ALL`] instead, so adding a property is one row here and one definition in `definitions.rs`. The vectors
//! themselves live in [`Props`], indexed by the id.

use crate::indi::DefVector;

/// When a property is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A standard INDI property (libindi's `DefaultDevice`): always defined.
    Standard,
    /// One of the DSO Detector's own: defined while connected, deleted otherwise (libindi's `updateProperties`).
    Detection,
}

/// One row of the table.
struct Row {
    name: &'static str,
    kind: Kind,
    saved: bool,
}

/// Declares [`Prop`] and its rows in one list, so the enum and the table cannot drift apart.
macro_rules! properties {
    ($($(#[$doc:meta])* $id:ident = $name:literal, $kind:ident, $saved:literal;)*) => {
        /// A property of the device. The order is the order of definition on the wire: the standard properties,
        /// then the detection properties, results last.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Prop {
            $($(#[$doc])* $id,)*
        }

        impl Prop {
            /// Every property, in definition order.
            pub const ALL: &'static [Prop] = &[$(Prop::$id,)*];
        }

        const ROWS: &[Row] = &[$(Row { name: $name, kind: Kind::$kind, saved: $saved },)*];
    };
}

properties! {
    /// `CONNECTION`: connects and disconnects (libindi's `CONNECTION`).
    Connection = "CONNECTION", Standard, false;
    /// `DRIVER_INFO`: name, executable, version, interface.
    DriverInfo = "DRIVER_INFO", Standard, false;
    /// `DEBUG`: debug messages on or off.
    Debug = "DEBUG", Standard, false;
    /// `CONFIG_PROCESS`: load, save, restore defaults, purge.
    ConfigProcess = "CONFIG_PROCESS", Standard, false;
    /// `ACTIVE_DEVICES`: the camera and mount snooped.
    ActiveDevices = "ACTIVE_DEVICES", Standard, true;
    /// `DSO_DETECTOR`: which detector runs.
    Detector = "DSO_DETECTOR", Detection, true;
    /// `DSO_SETTINGS`: confidence, count and picture size.
    Settings = "DSO_SETTINGS", Detection, true;
    /// `DSO_OUTPUTS`: which pictures are made.
    Outputs = "DSO_OUTPUTS", Detection, true;
    /// `DSO_IMAGE_UPLOAD`: a client's image to analyse.
    ImageUpload = "DSO_IMAGE_UPLOAD", Detection, false;
    /// `DSO_IDENTIFY`: naming and plate solving on or off.
    Identify = "DSO_IDENTIFY", Detection, true;
    /// `DSO_SOLVER`: the plate solver's time limit.
    Solver = "DSO_SOLVER", Detection, true;
    /// `DSO_TARGET`: the object the observer is after.
    Target = "DSO_TARGET", Detection, true;
    /// `DSO_TARGET_STATE`: whether the target is in the frame.
    TargetState = "DSO_TARGET_STATE", Detection, false;
    /// `DSO_RESULTS`: the last frame's JSON report and summary.
    Results = "DSO_RESULTS", Detection, false;
    /// `DSO_STATS`: counts, latency, frame size.
    Stats = "DSO_STATS", Detection, false;
    /// `DSO_ANNOTATED`: the annotated JPEG.
    Annotated = "DSO_ANNOTATED", Detection, false;
    /// `DSO_HEATMAP`: the heat map PNG.
    Heatmap = "DSO_HEATMAP", Detection, false;
    /// `DSO_QUALITY`: the frame's quality measures.
    Quality = "DSO_QUALITY", Detection, false;
    /// `DSO_VERDICT`: good, marginal or reject, and why.
    Verdict = "DSO_VERDICT", Detection, false;
}

impl Prop {
    fn row(self) -> &'static Row {
        &ROWS[self as usize]
    }

    /// The INDI name.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// When it is defined.
    pub fn kind(self) -> Kind {
        self.row().kind
    }

    /// Whether it is saved in the configuration file (libindi's `saveConfigItems`).
    pub fn saved(self) -> bool {
        self.row().saved
    }

    /// The property with this INDI name.
    pub fn by_name(name: &str) -> Option<Prop> {
        Prop::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The properties of one kind, in definition order.
    pub fn of_kind(kind: Kind) -> impl Iterator<Item = Prop> {
        Prop::ALL.iter().copied().filter(move |p| p.kind() == kind)
    }

    /// The saved properties, in definition order (the order of the configuration file).
    pub fn saved_ones() -> impl Iterator<Item = Prop> {
        Prop::ALL.iter().copied().filter(|p| p.saved())
    }
}

/// The device's property vectors, one per [`Prop`], current values included.
#[derive(Clone, Debug)]
pub struct Props(Vec<DefVector>);

impl Props {
    /// Builds every vector with `define` (called once per property, in [`Prop::ALL`] order).
    pub fn new(mut define: impl FnMut(Prop) -> DefVector) -> Self {
        let vectors: Vec<DefVector> = Prop::ALL.iter().map(|&p| define(p)).collect();
        debug_assert!(vectors.iter().zip(Prop::ALL).all(|(v, p)| v.name == p.name()), "a definition is misnamed");
        Self(vectors)
    }

    /// A property's vector.
    pub fn get(&self, p: Prop) -> &DefVector {
        &self.0[p as usize]
    }

    /// A property's vector, to change.
    pub fn get_mut(&mut self, p: Prop) -> &mut DefVector {
        &mut self.0[p as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_ids_agree() {
        assert_eq!(Prop::ALL.len(), ROWS.len());
        for (i, p) in Prop::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i);
            assert_eq!(Prop::by_name(p.name()), Some(*p));
        }
    }

    #[test]
    fn the_lists_the_hooks_used_to_keep_by_hand() {
        let names = |it: &mut dyn Iterator<Item = Prop>| it.map(Prop::name).collect::<Vec<_>>();
        assert_eq!(
            names(&mut Prop::of_kind(Kind::Standard)),
            ["CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS", "ACTIVE_DEVICES"]
        );
        assert_eq!(
            names(&mut Prop::saved_ones()),
            [
                "ACTIVE_DEVICES",
                "DSO_DETECTOR",
                "DSO_SETTINGS",
                "DSO_OUTPUTS",
                "DSO_IDENTIFY",
                "DSO_SOLVER",
                "DSO_TARGET"
            ]
        );
        assert_eq!(Prop::of_kind(Kind::Detection).count(), 14);
        assert_eq!(Prop::of_kind(Kind::Detection).last(), Some(Prop::Verdict));
    }
}
