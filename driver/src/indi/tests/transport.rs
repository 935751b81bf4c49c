//! The stdin transport end to end: XML and a memfd sent over a socketpair with `SCM_RIGHTS`, as indiserver
//! ≥ 1.9.7 does, and the `read()` fallback for a pipe.

use std::io::{IoSlice, Write as _};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

use super::blobs::{blob_of, memfd, payload, set_attached};
use super::*;

/// Sends `bytes` with `fds` attached, as one `sendmsg`.
fn send(socket: &UnixStream, bytes: &[u8], fds: &[&OwnedFd]) {
    let raw: Vec<_> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    let cmsgs = if raw.is_empty() { vec![] } else { vec![ControlMessage::ScmRights(&raw)] };
    let sent = sendmsg::<()>(socket.as_raw_fd(), &[IoSlice::new(bytes)], &cmsgs, MsgFlags::empty(), None).unwrap();
    assert_eq!(sent, bytes.len());
}

/// Reads everything until end of input.
fn read_all<F: std::os::fd::AsFd>(transport: &mut Transport<F>, decoder: &mut Decoder) -> Vec<Message> {
    let mut messages = Vec::new();
    loop {
        let more = transport.read_into(decoder).unwrap();
        messages.extend(drain(decoder).into_iter().map(Result::unwrap));
        if !more {
            return messages;
        }
    }
}

#[test]
fn socketpair_delivers_xml_and_an_attached_memfd() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let data = payload(2_626_560);
    let server = std::thread::spawn(move || {
        let fd = memfd(&data);
        send(&theirs, b"<getProperties version=\"1.7\"/>\n", &[]);
        // The descriptor travels with the first bytes of its message, as libindi sends it.
        let message = set_attached(data.len());
        let (head, tail) = message.split_at(40);
        send(&theirs, head, &[&fd]);
        drop(fd);
        send(&theirs, tail, &[]);
        data
    });
    let mut transport = Transport::new(ours);
    let mut decoder = Decoder::new();
    let messages = read_all(&mut transport, &mut decoder);
    let data = server.join().unwrap();
    assert_eq!(messages.len(), 2);
    assert!(matches!(messages[0], Message::GetProperties(_)));
    assert!(blob_of(messages[1].clone()).data == data);
    assert_eq!(decoder.queued_fds(), 0);
}

#[test]
fn received_descriptors_are_close_on_exec() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let fd = memfd(b"x");
    // Clear the flag on the sent descriptor, to see the receiver set it.
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
    send(&theirs, b"<", &[&fd, &fd]);
    let mut transport = Transport::new(ours);
    let (bytes, fds) = transport.receive().unwrap();
    assert_eq!((bytes, fds.len()), (&b"<"[..], 2));
    for fd in &fds {
        let flags = FdFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFD).unwrap());
        assert!(flags.contains(FdFlag::FD_CLOEXEC));
    }
}

#[test]
fn a_pipe_falls_back_to_read_and_ends_cleanly() {
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let mut writer = std::fs::File::from(writer);
    writer.write_all(b"<getProperties version=\"1.7\"/><pingRequest uid=\"1\"/>").unwrap();
    drop(writer);
    let mut transport = Transport::new(reader);
    let mut decoder = Decoder::new();
    let messages = read_all(&mut transport, &mut decoder);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1], Message::PingRequest { uid: s("1") });
}
