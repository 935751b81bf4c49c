//! A camera whose exposures end but whose frames never reach the driver (issue 18: a camera on a chained indiserver,
//! whose BLOBs only travel while a client of the downstream server enables them): the driver warns once, and never
//! while frames arrive: raw XML as the server forwards a snooped camera's `CCD_EXPOSURE`, and a real chained pair of
//! Debian's indiservers.

use dso_detector::indi::Message;

use dso_test_support::*;

use crate::DRIVER;

fn exposure(state: &str, value: f64) -> String {
    format!(
        "<setNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\" state=\"{state}\" timeout=\"60\">\
         <oneNumber name=\"CCD_EXPOSURE_VALUE\">{value}</oneNumber></setNumberVector>\n"
    )
}

fn never_arrive_warnings(d: &Driver) -> Vec<String> {
    d.peer
        .received
        .iter()
        .filter_map(|m| match m {
            Ok(Message::Message(m)) => m.message.clone(),
            _ => None,
        })
        .filter(|t| t.contains("never arrive"))
        .collect()
}

#[test]
fn exposures_ending_without_frames_warn_once() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    for i in 0..4 {
        d.peer.send(&exposure("Busy", 1.0));
        d.peer.send(&exposure("Ok", 0.0));
        d.peer.ping(&format!("exposure{i}"));
        let warnings = never_arrive_warnings(&d);
        if i == 0 {
            assert!(warnings.is_empty(), "warned after one exposure: {warnings:?}");
        } else {
            assert_eq!(warnings.len(), 1, "after {} exposures: {warnings:?}", i + 1);
        }
    }
    let w = &never_arrive_warnings(&d)[0];
    assert!(w.starts_with("[WARNING] frames from CCD Simulator never arrive: 2 exposures"), "{w}");
    assert!(w.contains("chained"), "{w}");
}

#[test]
fn frames_that_arrive_after_each_exposure_never_warn() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    let fits = Sky::render(320, 240, (160.0, 120.0), 10.0, 3).to_fits();
    for i in 0..3 {
        d.peer.send(&exposure("Busy", 1.0));
        d.peer.send(&exposure("Ok", 0.0));
        // As indiserver may order them: the image after the exposure's end.
        d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &fits));
        d.peer.ping(&format!("frame{i}"));
    }
    // The last ping is the barrier: the warning is counted in exposures, not time, by the loop that answered it.
    assert!(never_arrive_warnings(&d).is_empty(), "{}", d.peer.tail());
}

/// The real thing: the CCD simulator on one indiserver, the driver on a second one that chains it
/// (`"CCD Simulator@127.0.0.1:PORT"`), and no client of the second server enabling the camera's BLOBs. The camera's
/// exposures end, its frames never come, and the driver says so.
#[test]
fn a_chained_camera_whose_frames_never_arrive_is_reported() {
    let Some(upstream) = Server::start(&["indi_simulator_ccd"]) else { return };
    // Listening before the second server starts: an indiserver that cannot reach a chained device at start exits
    // ("connect(...): Connection refused", "good bye" — indiserver 1.9.9).
    let mut camera = upstream.client();
    let chained = format!("CCD Simulator@127.0.0.1:{}", upstream.port());
    let Some(downstream) = Server::start(&[&chained, DRIVER]) else { return };
    camera.send("<getProperties version=\"1.7\"/>\n");
    camera.wait_from(0, secs(15), |m| is_def(m, "CONNECTION") && m.device() == Some("CCD Simulator"));
    camera.send(&connect_xml("CCD Simulator"));
    camera.wait_from(0, secs(15), |m| is_def(m, "CCD_EXPOSURE"));
    let mut client = downstream.client();
    client.send("<getProperties version=\"1.7\"/>\n");
    client.wait_from(0, secs(15), |m| is_def(m, "CONNECTION") && m.device() == Some("DSO Detector"));
    client.send(&connect_xml("DSO Detector"));
    client.wait_from(0, secs(15), |m| is_def(m, "DSO_RESULTS"));
    for _ in 0..2 {
        let from = camera.received.len();
        camera.send(
            "<newNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\">\
             <oneNumber name=\"CCD_EXPOSURE_VALUE\">0.2</oneNumber></newNumberVector>\n",
        );
        camera.wait_from(from, secs(30), |m| {
            is_set(m, "CCD_EXPOSURE") && state_of(m) == Some(dso_detector::indi::PropertyState::Ok)
        });
    }
    let warning = client.wait_from(
        0,
        secs(20),
        |m| matches!(m, Message::Message(d) if d.message.as_deref().is_some_and(|t| t.contains("never arrive"))),
    );
    let Message::Message(d) = warning else { unreachable!() };
    let text = d.message.unwrap_or_default();
    assert!(text.starts_with("[WARNING] frames from CCD Simulator never arrive"), "{text}");
    assert_eq!(d.device.as_deref(), Some("DSO Detector"));
}
