//! The INDI 1.7 protocol as the driver speaks it on stdin/stdout: typed messages, a streaming decoder, a writer,
//! and a stdin transport that also receives attached BLOBs (memfds passed with `SCM_RIGHTS`).
//!
//! Why our own codec: the published `indi` crate answers each message only when the next one arrives, cannot read
//! `attached="true"` BLOBs and panics on bad input (see `shared/INDI-NOTES.md`). Here the layers are bytes →
//! [`Transport`] → [`Decoder`] (framing, then quick-xml on one complete element) → [`Message`]; the way back is
//! [`write_message`].
//!
//! Malformed input never panics and never stops decoding: [`Decoder::next_message`] yields a [`ProtocolError`]
//! naming the device and property when they are known, and carries on with the next message.
//!
//! A driver's main loop:
//!
//! ```no_run
//! use dso_detector::indi::{write_message, Decoder, Message, Transport};
//! use std::io::Write;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut input = Transport::stdin();
//! let mut decoder = Decoder::new();
//! let mut out = std::io::stdout().lock();
//! while input.read_into(&mut decoder)? {
//!     while let Some(next) = decoder.next_message() {
//!         match next {
//!             Ok(Message::PingRequest { uid }) => write_message(&mut out, &Message::PingReply { uid })?,
//!             Ok(_message) => { /* hand to the device */ }
//!             Err(error) => log::warn!("{error}"), // and set error.device/error.name to Alert
//!         }
//!         out.flush()?;
//!     }
//! }
//! // End of input (EOF): the server has gone, exit cleanly.
//! # Ok(())
//! # }
//! ```

mod blob;
mod decode;
mod encode;
mod error;
mod framer;
mod markup;
mod message;
mod parse;
mod transport;
mod tree;
mod values;
mod vector;

#[cfg(test)]
mod tests;

pub use decode::{Decoder, DecoderConfig};
pub(crate) use encode::escape_into;
pub use encode::{to_xml, write_message};
pub(crate) use error::shorten;
pub use error::{ErrorKind, ProtocolError};
pub use message::{
    BlobEnable, DelProperty, DeviceMessage, EnableBlob, GetProperties, Message, Permission, PropertyState, SwitchRule,
    SwitchState, VectorKind,
};
pub use transport::Transport;
pub use values::{format_number, format_timestamp, parse_number, parse_timestamp};
pub use vector::{
    DefBlob, DefElements, DefLight, DefNumber, DefSwitch, DefText, DefVector, NewVector, OneBlob, OneLight, OneNumber,
    OneSwitch, OneText, SetVector, Values,
};
