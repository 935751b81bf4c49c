//! The INDI 1.7 messages as plain Rust values.
//!
//! One enum, [`Message`], covers every top-level element a driver reads or writes; the vector types group the
//! attributes INDI shares between kinds (text, number, switch, light, BLOB), and the per-kind element lists live in
//! [`DefElements`](super::DefElements) and [`Values`](super::Values). Decoding ([`super::Decoder`]) and encoding ([`super::write_message`]) both work
//! on these types, so a round trip is `write → decode → ==`.
//!
//! Attribute names follow the INDI DTD (`indi.dtd` in libindi); optional attributes are `Option`s, and attributes
//! that INDI requires but that a sloppy peer may omit fall back to the defaults named on each field.

use std::time::SystemTime;

use super::vector::{DefVector, NewVector, SetVector};

/// Generates a `Copy` enum whose variants map one-to-one to INDI attribute or text values.
macro_rules! indi_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The spelling INDI uses on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the wire spelling (exact, as libindi's `crack*` functions do); `None` if unknown.
            pub fn from_wire(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

indi_enum! {
    /// The state of a property vector (`state` attribute) or of a light element.
    #[derive(Default)]
    PropertyState {
        /// Nothing is happening.
        #[default]
        Idle = "Idle",
        /// The last operation succeeded.
        Ok = "Ok",
        /// An operation is in progress.
        Busy = "Busy",
        /// The last operation failed.
        Alert = "Alert",
    }
}

indi_enum! {
    /// Who may change a property (`perm` attribute).
    Permission {
        /// Clients may only read it.
        ReadOnly = "ro",
        /// Clients may only write it.
        WriteOnly = "wo",
        /// Clients may read and write it.
        ReadWrite = "rw",
    }
}

indi_enum! {
    /// How the switches of a switch vector relate (`rule` attribute).
    SwitchRule {
        /// Exactly one switch is On.
        OneOfMany = "OneOfMany",
        /// At most one switch is On.
        AtMostOne = "AtMostOne",
        /// Any number of switches may be On.
        AnyOfMany = "AnyOfMany",
    }
}

indi_enum! {
    /// The state of one switch.
    SwitchState {
        /// Off.
        Off = "Off",
        /// On.
        On = "On",
    }
}

indi_enum! {
    /// Whether BLOBs are sent on a connection (`enableBLOB` text).
    BlobEnable {
        /// No BLOBs (the default for a new connection).
        Never = "Never",
        /// BLOBs interleaved with other messages.
        Also = "Also",
        /// Only BLOBs.
        Only = "Only",
    }
}

/// One top-level INDI message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// `<getProperties>`: asks a device to define its properties (or, from a driver, to snoop another device).
    GetProperties(GetProperties),
    /// `<defXXXVector>`: defines a property with its elements.
    Def(DefVector),
    /// `<setXXXVector>`: a device reports new values.
    Set(SetVector),
    /// `<newXXXVector>`: a client asks for new values (there is no `newLightVector`).
    New(NewVector),
    /// `<delProperty>`: a property, or a whole device when `name` is `None`, goes away.
    DelProperty(DelProperty),
    /// `<enableBLOB>`: controls BLOB delivery.
    EnableBlob(EnableBlob),
    /// `<message>`: a free-text message, optionally tied to a device.
    Message(DeviceMessage),
    /// `<pingRequest uid=".."/>`: flow control, answered by a `PingReply` with the same uid.
    PingRequest {
        /// Opaque identifier echoed by the reply.
        uid: String,
    },
    /// `<pingReply uid=".."/>`: the answer to a `PingRequest`.
    PingReply {
        /// The identifier of the request being answered.
        uid: String,
    },
}

impl Message {
    /// The XML element name this message is written as (`"setNumberVector"`, `"pingReply"`, ...).
    pub fn tag(&self) -> &'static str {
        match self {
            Message::GetProperties(_) => "getProperties",
            Message::Def(d) => d.elements.kind().def_tag(),
            Message::Set(s) => s.values.kind().set_tag(),
            Message::New(n) => n.values.kind().new_tag(),
            Message::DelProperty(_) => "delProperty",
            Message::EnableBlob(_) => "enableBLOB",
            Message::Message(_) => "message",
            Message::PingRequest { .. } => "pingRequest",
            Message::PingReply { .. } => "pingReply",
        }
    }

    /// The device the message concerns, if it names one.
    pub fn device(&self) -> Option<&str> {
        match self {
            Message::GetProperties(g) => g.device.as_deref(),
            Message::Def(d) => Some(&d.device),
            Message::Set(s) => Some(&s.device),
            Message::New(n) => Some(&n.device),
            Message::DelProperty(d) => Some(&d.device),
            Message::EnableBlob(e) => Some(&e.device),
            Message::Message(m) => m.device.as_deref(),
            Message::PingRequest { .. } | Message::PingReply { .. } => None,
        }
    }

    /// The property the message concerns, if it names one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Message::GetProperties(g) => g.name.as_deref(),
            Message::Def(d) => Some(&d.name),
            Message::Set(s) => Some(&s.name),
            Message::New(n) => Some(&n.name),
            Message::DelProperty(d) => d.name.as_deref(),
            Message::EnableBlob(e) => e.name.as_deref(),
            Message::Message(_) | Message::PingRequest { .. } | Message::PingReply { .. } => None,
        }
    }
}

/// The kind of a property vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VectorKind {
    /// Text elements.
    Text,
    /// Number elements.
    Number,
    /// Switch elements.
    Switch,
    /// Light elements (device to client only).
    Light,
    /// BLOB elements.
    Blob,
}

impl VectorKind {
    /// `defTextVector` and friends.
    pub fn def_tag(self) -> &'static str {
        ["defTextVector", "defNumberVector", "defSwitchVector", "defLightVector", "defBLOBVector"][self as usize]
    }

    /// `setTextVector` and friends.
    pub fn set_tag(self) -> &'static str {
        ["setTextVector", "setNumberVector", "setSwitchVector", "setLightVector", "setBLOBVector"][self as usize]
    }

    /// `newTextVector` and friends; `newLightVector` does not exist in INDI but is named for completeness.
    pub fn new_tag(self) -> &'static str {
        ["newTextVector", "newNumberVector", "newSwitchVector", "newLightVector", "newBLOBVector"][self as usize]
    }

    /// `defText` and friends: the child element of a `def` vector.
    pub fn def_child(self) -> &'static str {
        ["defText", "defNumber", "defSwitch", "defLight", "defBLOB"][self as usize]
    }

    /// `oneText` and friends: the child element of `set` and `new` vectors.
    pub fn one_child(self) -> &'static str {
        ["oneText", "oneNumber", "oneSwitch", "oneLight", "oneBLOB"][self as usize]
    }
}

/// `<getProperties version=".." device=".." name=".."/>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GetProperties {
    /// Protocol version; a driver writes `"1.7"`.
    pub version: Option<String>,
    /// Only this device (all devices when `None`).
    pub device: Option<String>,
    /// Only this property of `device`.
    pub name: Option<String>,
}

/// `<delProperty device name timestamp message/>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DelProperty {
    /// Device name.
    pub device: String,
    /// Property name; `None` deletes the whole device.
    pub name: Option<String>,
    /// When it happened.
    pub timestamp: Option<SystemTime>,
    /// Commentary for the user.
    pub message: Option<String>,
}

/// `<enableBLOB device name>Never|Also|Only</enableBLOB>`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnableBlob {
    /// Device name.
    pub device: String,
    /// Property name; all BLOB properties of `device` when `None`.
    pub name: Option<String>,
    /// The mode.
    pub mode: BlobEnable,
}

/// `<message device timestamp message/>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceMessage {
    /// The device it concerns, if any.
    pub device: Option<String>,
    /// When it was written.
    pub timestamp: Option<SystemTime>,
    /// The text. KStars shows it only when it starts with `[INFO] `, `[WARNING] ` or `[ERROR] `.
    pub message: Option<String>,
}
