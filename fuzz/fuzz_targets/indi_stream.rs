//! The INDI stream decoder (`dso_detector::indi::Decoder`) on arbitrary bytes split at arbitrary points, with file
//! descriptors (memfds holding part of the input, as indiserver 1.9.9 attaches BLOBs) pushed now and then.
//!
//! Input: two bytes seeding the split points, then the stream. Checked: no panic, no hang, every descriptor pushed
//! is either claimed by an attached BLOB or still queued, and after `finish` nothing stays buffered.
#![no_main]

use std::io::Write;
use std::os::fd::OwnedFd;

use dso_detector::indi::{Decoder, DecoderConfig};
use libfuzzer_sys::fuzz_target;

fn memfd(bytes: &[u8]) -> Option<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let fd = memfd_create(c"blob", MemFdCreateFlag::MFD_CLOEXEC).ok()?;
    let mut f = std::fs::File::from(fd);
    f.write_all(bytes).ok()?;
    Some(f.into())
}

fuzz_target!(|data: &[u8]| {
    let [a, b, body @ ..] = data else { return };
    // xorshift: reproducible split points from the first two bytes.
    let mut seed = (u64::from(*a) << 8 | u64::from(*b)) | 0x9e37_79b9_0000_0000;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut decoder = Decoder::with_config(DecoderConfig { max_blob: 1 << 16, max_message: 1 << 16 });
    let mut pushed_fds = 0usize;
    let mut at = 0;
    while at < body.len() {
        let r = next();
        let end = (at + 1 + (r % 97) as usize).min(body.len());
        if r & 0x700 == 0x700 {
            if let Some(fd) = memfd(&body[at..end]) {
                decoder.push_fds([fd]);
                pushed_fds += 1;
            }
        }
        decoder.push(&body[at..end]);
        while decoder.next_message().is_some() {}
        assert!(decoder.queued_fds() <= pushed_fds);
        at = end;
    }
    decoder.finish();
    while decoder.next_message().is_some() {}
    assert_eq!(decoder.buffered_bytes(), 0, "bytes left buffered after finish");
});
