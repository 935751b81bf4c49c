//! Reading the driver's stdin, including file descriptors passed with `SCM_RIGHTS`.
//!
//! Since INDI 1.9.7 a driver's stdin is one end of an `AF_UNIX` stream socketpair, and attached BLOBs arrive as
//! memfds in control messages: a plain `read()` would silently drop them (upstream indilib/indi#1822). So stdin is
//! read with `recvmsg` and a control buffer; when it is not a socket (`ENOTSOCK`: a pipe in tests, an older
//! server) the transport falls back to `read()`.

use std::io::{self, Stdin};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use super::decode::Decoder;

/// Bytes read per call.
const READ_SIZE: usize = 256 * 1024;
/// Descriptors one `recvmsg` can take; libindi passes one per attached BLOB of a message.
const MAX_FDS: usize = 32;

/// A reader of INDI input: bytes plus any received descriptors (always close-on-exec).
pub struct Transport<F: AsFd = Stdin> {
    source: F,
    socket: bool,
    buf: Vec<u8>,
    control: Vec<u8>,
}

impl Transport<Stdin> {
    /// Reads the process's stdin.
    pub fn stdin() -> Self {
        Transport::new(io::stdin())
    }
}

impl<F: AsFd> Transport<F> {
    /// Reads `source`, a socket or any other readable descriptor (blocking).
    pub fn new(source: F) -> Self {
        Transport { source, socket: true, buf: vec![0; READ_SIZE], control: nix::cmsg_space!([RawFd; MAX_FDS]) }
    }

    /// Receives what is available (blocking until something is): the bytes, and the descriptors that came with
    /// them. An empty slice means end of input.
    pub fn receive(&mut self) -> io::Result<(&[u8], Vec<OwnedFd>)> {
        let fd = self.source.as_fd().as_raw_fd();
        let mut fds = Vec::new();
        let bytes = loop {
            let result = if self.socket { self.recv(fd, &mut fds) } else { nix::unistd::read(fd, &mut self.buf) };
            match result {
                Ok(n) => break n,
                Err(Errno::EINTR) => {}
                Err(Errno::ENOTSOCK) if self.socket => self.socket = false,
                Err(e) => return Err(e.into()),
            }
        };
        Ok((&self.buf[..bytes], fds))
    }

    /// Receives once into `decoder` (descriptors first, then bytes); returns `false` at end of input, after
    /// calling [`Decoder::finish`].
    pub fn read_into(&mut self, decoder: &mut Decoder) -> io::Result<bool> {
        let (bytes, fds) = self.receive()?;
        decoder.push_fds(fds);
        if bytes.is_empty() {
            decoder.finish();
            return Ok(false);
        }
        decoder.push(bytes);
        Ok(true)
    }

    fn recv(&mut self, fd: RawFd, fds: &mut Vec<OwnedFd>) -> nix::Result<usize> {
        let mut iov = [io::IoSliceMut::new(&mut self.buf)];
        let message = recvmsg::<()>(fd, &mut iov, Some(&mut self.control), MsgFlags::MSG_CMSG_CLOEXEC)?;
        match message.cmsgs() {
            Ok(cmsgs) => {
                for cmsg in cmsgs {
                    if let ControlMessageOwned::ScmRights(raw) = cmsg {
                        // SAFETY: the kernel has just installed these descriptors in this process for this
                        // message; nothing else knows them, so each gets exactly one owner here.
                        fds.extend(raw.into_iter().map(|raw| unsafe { OwnedFd::from_raw_fd(raw) }));
                    }
                }
            }
            Err(_) => log::error!("more than {MAX_FDS} descriptors in one message: attached BLOBs were lost"),
        }
        Ok(message.bytes)
    }
}
