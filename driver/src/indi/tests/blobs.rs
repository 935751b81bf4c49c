//! BLOBs in every form a server sends, and the ways they go wrong: bad base64, a lying `len`, a missing
//! descriptor, and a declaration too large to accept (skipped without buffering).

use std::ffi::CString;
use std::io::Write as _;
use std::os::fd::OwnedFd;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use nix::sys::memfd::{memfd_create, MemFdCreateFlag};

use super::*;

pub(super) fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// The single BLOB of a decoded `setBLOBVector`.
pub(super) fn blob_of(message: Message) -> OneBlob {
    let Message::Set(SetVector { values: Values::Blob(mut blobs), .. }) = message else { panic!("{message:?}") };
    assert_eq!(blobs.len(), 1);
    blobs.remove(0)
}

fn set_blob(attributes: &str, body: &str) -> Vec<u8> {
    format!(
        "<setBLOBVector device=\"CCD Simulator\" name=\"CCD1\" state=\"Ok\">\n  \
         <oneBLOB name=\"CCD1\" {attributes}>{body}</oneBLOB>\n</setBLOBVector>\n"
    )
    .into_bytes()
}

/// An attached BLOB as INDI 1.9.7 – 1.9.9 servers send it: an empty element, the bytes in a descriptor.
pub(super) fn set_attached(len: usize) -> Vec<u8> {
    format!(
        "<setBLOBVector device=\"CCD Simulator\" name=\"CCD1\" state=\"Ok\">\n  \
         <oneBLOB name=\"CCD1\" size=\"{len}\" format=\".fits\" len=\"{len}\" attached=\"true\"/>\n</setBLOBVector>\n"
    )
    .into_bytes()
}

pub(super) fn memfd(data: &[u8]) -> OwnedFd {
    let fd = memfd_create(&CString::new("blob").unwrap(), MemFdCreateFlag::MFD_CLOEXEC).unwrap();
    std::fs::File::from(fd.try_clone().unwrap()).write_all(data).unwrap();
    fd
}

const PING: &[u8] = b"<pingRequest uid=\"next\"/>";

fn is_ping(result: &Result<Message, ProtocolError>) -> bool {
    matches!(result, Ok(Message::PingRequest { uid }) if uid == "next")
}

#[test]
fn inline_one_line_as_forwarded_by_a_server() {
    let data = payload(2000);
    let body = STANDARD.encode(&data);
    let blob = blob_of(decode_one(&set_blob(r#"size="2000" format=".fits" len="2000""#, &body)));
    assert_eq!((blob.size, blob.format.as_str(), blob.data), (2000, ".fits", data));
}

#[test]
fn inline_72_columns_with_enclen_as_written_by_a_libindi_driver() {
    let data = payload(1000);
    let encoded = STANDARD.encode(&data);
    let lines: Vec<&str> = encoded.as_bytes().chunks(72).map(|l| std::str::from_utf8(l).unwrap()).collect();
    let body = format!("\n{}\n    ", lines.join("\n      "));
    let attributes = format!(r#"size="1000" enclen="{}" format=".jpg" len="1000""#, encoded.len());
    assert_eq!(blob_of(decode_one(&set_blob(&attributes, &body))).data, data);
}

#[test]
fn padded_fits_fz_is_cut_to_len() {
    let data = payload(3000);
    let mut padded = data.clone();
    padded.resize(1 << 16, 0);
    let attributes = r#"size="2626560" format=".fits.fz" len="3000""#;
    let blob = blob_of(decode_one(&set_blob(attributes, &STANDARD.encode(&padded))));
    assert_eq!((blob.size, blob.data.len()), (2_626_560, 3000));
    assert_eq!(blob.data, data);
}

#[test]
fn lying_len_is_an_error_and_decoding_goes_on() {
    let mut stream = set_blob(r#"size="10" format=".fits" len="10""#, &STANDARD.encode(payload(9)));
    stream.extend_from_slice(PING);
    let all = decode_all(&stream);
    let error = all[0].as_ref().unwrap_err();
    assert_eq!((error.device.as_deref(), error.name.as_deref()), (Some("CCD Simulator"), Some("CCD1")));
    assert!(matches!(error.kind, ErrorKind::LyingLen { declared: 10, actual: 9, .. }), "{error}");
    assert!(is_ping(&all[1]));
}

#[test]
fn bad_base64_is_an_error() {
    let error = decode_error(&set_blob(r#"size="6" format=".fits" len="6""#, "QUJD*REVG"));
    assert!(matches!(error.kind, ErrorKind::BadBase64 { ref element, .. } if element == "CCD1"), "{error}");
    assert_eq!(error.to_string().split(':').next(), Some("CCD Simulator.CCD1"));
}

#[test]
fn attached_blob_reads_the_memfd() {
    let data = payload(2_626_560);
    let mut decoder = Decoder::new();
    decoder.push_fds([memfd(&data)]);
    decoder.push(&set_attached(2_626_560));
    let blob = blob_of(decoder.next_message().unwrap().unwrap());
    assert_eq!((blob.size, blob.format.as_str()), (2_626_560, ".fits"));
    assert!(blob.data == data);
    assert_eq!(decoder.queued_fds(), 0);
}

#[test]
fn attached_blobs_take_descriptors_in_order() {
    let (a, b) = (payload(100), payload(50));
    let mut decoder = Decoder::new();
    decoder.push_fds([memfd(&a), memfd(&b)]);
    decoder.push(
        br#"<setBLOBVector device="D" name="P"><oneBLOB name="A" size="100" format=".a" len="100" attached="true"/>
<oneBLOB name="B" size="50" format=".b" len="50" attached="true"/></setBLOBVector>"#,
    );
    let Some(Ok(Message::Set(SetVector { values: Values::Blob(blobs), .. }))) = decoder.next_message() else {
        panic!()
    };
    assert_eq!((&blobs[0].data, &blobs[1].data), (&a, &b));
}

#[test]
fn attached_blob_without_descriptor_is_an_error_not_a_crash() {
    let mut stream = set_attached(10);
    stream.extend_from_slice(PING);
    let all = decode_all(&stream);
    assert!(matches!(&all[0], Err(ProtocolError { kind: ErrorKind::MissingFd { .. }, .. })), "{all:?}");
    assert!(is_ping(&all[1]));
}

#[test]
fn attached_blob_shorter_than_len_is_a_lie() {
    let mut decoder = Decoder::new();
    decoder.push_fds([memfd(&payload(5))]);
    decoder.push(&set_attached(10));
    let error = decoder.next_message().unwrap().unwrap_err();
    assert!(matches!(error.kind, ErrorKind::LyingLen { declared: 10, actual: 5, .. }), "{error}");
}

#[test]
fn oversize_blob_is_skipped_with_bounded_memory() {
    let config = DecoderConfig { max_blob: 1 << 20, ..DecoderConfig::default() };
    let mut decoder = Decoder::with_config(config);
    decoder.push(br#"<setBLOBVector device="CCD Simulator" name="CCD1" state="Ok">"#);
    decoder.push(br#"<oneBLOB name="CCD1" size="200000000" format=".fits" len="200000000">"#);
    let line = [b"QUJDREVG".repeat(9), b"\n".to_vec()].concat();
    let chunk = line.repeat(64 * 1024 / line.len());
    let mut pushed = 0;
    while pushed < 16 << 20 {
        decoder.push(&chunk);
        pushed += chunk.len();
        assert!(decoder.buffered_bytes() < 64 * 1024, "{} bytes buffered", decoder.buffered_bytes());
        assert!(decoder.next_message().is_none());
    }
    decoder.push(b"</oneBLOB></setBLOBVector>");
    let error = decoder.next_message().unwrap().unwrap_err();
    assert_eq!((error.device.as_deref(), error.name.as_deref()), (Some("CCD Simulator"), Some("CCD1")));
    let expected = ErrorKind::BlobTooLarge { element: Some(s("CCD1")), declared: 200_000_000, limit: 1 << 20 };
    assert_eq!(error.kind, expected);
    decoder.push(PING);
    assert!(is_ping(&decoder.next_message().unwrap()));
}

#[test]
fn oversize_attached_blob_closes_its_descriptor() {
    let mut decoder = Decoder::with_config(DecoderConfig { max_blob: 100, ..DecoderConfig::default() });
    decoder.push_fds([memfd(&payload(10)), memfd(&payload(20))]);
    decoder.push(&set_attached(200));
    let error = decoder.next_message().unwrap().unwrap_err();
    assert!(matches!(error.kind, ErrorKind::BlobTooLarge { declared: 200, limit: 100, .. }), "{error}");
    assert_eq!(decoder.queued_fds(), 1, "the oversize BLOB's descriptor was consumed");
    decoder.push(&set_attached(20));
    assert_eq!(blob_of(decoder.next_message().unwrap().unwrap()).data, payload(20));
}

#[test]
fn blob_without_len_beyond_the_limit_is_rejected() {
    let config = DecoderConfig { max_blob: 100, ..DecoderConfig::default() };
    let mut decoder = Decoder::with_config(config);
    decoder.push(&set_blob(r#"format=".fits""#, &STANDARD.encode(payload(200))));
    let error = decoder.next_message().unwrap().unwrap_err();
    assert!(matches!(error.kind, ErrorKind::BlobTooLarge { declared: 200, .. }), "{error}");
}
