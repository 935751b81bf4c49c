//! The property vectors: a definition (`defXXXVector`) with its typed elements, and the values a device reports
//! (`setXXXVector`) or a client asks for (`newXXXVector`).
//!
//! They are apart from [`super::Message`] because they are what drivers work with all day (the device keeps each of
//! its properties as a [`DefVector`]), while the envelope and the small control messages are only read and written
//! at the edges.

use std::time::SystemTime;

use super::message::{Permission, PropertyState, SwitchRule, SwitchState, VectorKind};

/// A `defXXXVector`: the full definition of a property.
#[derive(Clone, Debug, PartialEq)]
pub struct DefVector {
    /// Device name.
    pub device: String,
    /// Property name.
    pub name: String,
    /// Human label (clients show `name` when absent).
    pub label: Option<String>,
    /// Control-panel tab.
    pub group: Option<String>,
    /// Current state (`Idle` when a peer omits it).
    pub state: PropertyState,
    /// Permission (`ReadOnly` when omitted). Not written for lights, which are always read-only.
    pub perm: Permission,
    /// Worst-case seconds to apply a change. Not written for lights.
    pub timeout: Option<f64>,
    /// When the values were valid.
    pub timestamp: Option<SystemTime>,
    /// Commentary for the user.
    pub message: Option<String>,
    /// The elements, which also fix the vector kind.
    pub elements: DefElements,
}

/// The elements of a `def` vector, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum DefElements {
    /// `defText` elements.
    Text(Vec<DefText>),
    /// `defNumber` elements.
    Number(Vec<DefNumber>),
    /// `defSwitch` elements and the vector's rule (`AnyOfMany` when a peer omits it).
    Switch(SwitchRule, Vec<DefSwitch>),
    /// `defLight` elements.
    Light(Vec<DefLight>),
    /// `defBLOB` elements.
    Blob(Vec<DefBlob>),
}

impl DefElements {
    /// The vector kind.
    pub fn kind(&self) -> VectorKind {
        match self {
            DefElements::Text(_) => VectorKind::Text,
            DefElements::Number(_) => VectorKind::Number,
            DefElements::Switch(..) => VectorKind::Switch,
            DefElements::Light(_) => VectorKind::Light,
            DefElements::Blob(_) => VectorKind::Blob,
        }
    }
}

/// `<defText name label>value</defText>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefText {
    /// Element name.
    pub name: String,
    /// Human label.
    pub label: Option<String>,
    /// Initial value (trimmed on decode).
    pub value: String,
}

/// `<defNumber name label format min max step>value</defNumber>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefNumber {
    /// Element name.
    pub name: String,
    /// Human label.
    pub label: Option<String>,
    /// printf-style display format, e.g. `%g`, `%.2f` or INDI's sexagesimal `%010.6m` (`%g` when omitted).
    pub format: String,
    /// Minimum value.
    pub min: f64,
    /// Maximum value (`min == max` means unbounded to clients).
    pub max: f64,
    /// Step for spin boxes, 0 for none.
    pub step: f64,
    /// Initial value.
    pub value: f64,
}

/// `<defSwitch name label>On|Off</defSwitch>`.
#[derive(Clone, Debug, PartialEq)]
pub struct DefSwitch {
    /// Element name.
    pub name: String,
    /// Human label.
    pub label: Option<String>,
    /// Initial state.
    pub state: SwitchState,
}

/// `<defLight name label>Idle|Ok|Busy|Alert</defLight>`.
#[derive(Clone, Debug, PartialEq)]
pub struct DefLight {
    /// Element name.
    pub name: String,
    /// Human label.
    pub label: Option<String>,
    /// Initial state.
    pub state: PropertyState,
}

/// `<defBLOB name label/>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefBlob {
    /// Element name.
    pub name: String,
    /// Human label.
    pub label: Option<String>,
}

/// A `setXXXVector`: a device's new values.
#[derive(Clone, Debug, PartialEq)]
pub struct SetVector {
    /// Device name.
    pub device: String,
    /// Property name.
    pub name: String,
    /// New state, if it changed.
    pub state: Option<PropertyState>,
    /// New timeout, if it changed.
    pub timeout: Option<f64>,
    /// When the values were valid.
    pub timestamp: Option<SystemTime>,
    /// Commentary for the user.
    pub message: Option<String>,
    /// The values, which also fix the vector kind.
    pub values: Values,
}

/// A `newXXXVector`: a client's request for new values.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVector {
    /// Device name.
    pub device: String,
    /// Property name.
    pub name: String,
    /// When the request was made.
    pub timestamp: Option<SystemTime>,
    /// The requested values; never `Values::Light` (writing one is an error).
    pub values: Values,
}

/// The `oneXXX` elements of a `set` or `new` vector, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `oneText` elements.
    Text(Vec<OneText>),
    /// `oneNumber` elements.
    Number(Vec<OneNumber>),
    /// `oneSwitch` elements.
    Switch(Vec<OneSwitch>),
    /// `oneLight` elements.
    Light(Vec<OneLight>),
    /// `oneBLOB` elements.
    Blob(Vec<OneBlob>),
}

impl Values {
    /// The vector kind.
    pub fn kind(&self) -> VectorKind {
        match self {
            Values::Text(_) => VectorKind::Text,
            Values::Number(_) => VectorKind::Number,
            Values::Switch(_) => VectorKind::Switch,
            Values::Light(_) => VectorKind::Light,
            Values::Blob(_) => VectorKind::Blob,
        }
    }
}

/// `<oneText name>value</oneText>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OneText {
    /// Element name.
    pub name: String,
    /// Value (trimmed on decode).
    pub value: String,
}

/// `<oneNumber name>value</oneNumber>`; sexagesimal values (`12:30:00`) are decoded to decimal.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OneNumber {
    /// Element name.
    pub name: String,
    /// Value.
    pub value: f64,
}

/// `<oneSwitch name>On|Off</oneSwitch>`.
#[derive(Clone, Debug, PartialEq)]
pub struct OneSwitch {
    /// Element name.
    pub name: String,
    /// State.
    pub state: SwitchState,
}

/// `<oneLight name>Idle|Ok|Busy|Alert</oneLight>`.
#[derive(Clone, Debug, PartialEq)]
pub struct OneLight {
    /// Element name.
    pub name: String,
    /// State.
    pub state: PropertyState,
}

/// `<oneBLOB name size format len>base64</oneBLOB>`, or its attached form; always decoded to bytes here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OneBlob {
    /// Element name.
    pub name: String,
    /// The `size` attribute: the uncompressed size (for `.fits.fz` larger than `data.len()`); `len` when omitted.
    pub size: u64,
    /// File-name suffix saying what `data` is: `.fits`, `.fits.fz`, `.jpg`, `.<ext>.z`, ...
    pub format: String,
    /// The payload, exactly `len` bytes.
    pub data: Vec<u8>,
}
