//! Property vectors as the driver keeps them: each one is its own `defXXXVector`, current values included, so that
//! defining, updating and saving a property all read the same place (libindi's `INDI::Property*` play this role).
//!
//! Builders make the definitions short to read in [`crate::device`]; accessors read and change values; [`set_of`]
//! turns a definition into the `setXXXVector` that publishes its current values.

use std::time::SystemTime;

use crate::indi::shorten;
use crate::indi::{
    DefBlob, DefElements, DefNumber, DefSwitch, DefText, DefVector, OneNumber, OneSwitch, OneText, Permission,
    PropertyState, SetVector, SwitchRule, SwitchState, Values,
};

/// A vector definition with no elements yet, as libindi's `fillXXXVector` makes it.
fn vector(device: &str, name: &str, label: &str, group: &str, perm: Permission, elements: DefElements) -> DefVector {
    DefVector {
        device: device.to_owned(),
        name: name.to_owned(),
        label: Some(label.to_owned()),
        group: Some(group.to_owned()),
        state: PropertyState::Idle,
        perm,
        timeout: Some(60.0),
        timestamp: None,
        message: None,
        elements,
    }
}

/// A text vector from `(name, label, value)` triples.
pub fn text(
    device: &str,
    name: &str,
    label: &str,
    group: &str,
    perm: Permission,
    els: &[(&str, &str, &str)],
) -> DefVector {
    let els = els
        .iter()
        .map(|(n, l, v)| DefText { name: (*n).into(), label: Some((*l).into()), value: (*v).into() })
        .collect();
    vector(device, name, label, group, perm, DefElements::Text(els))
}

/// A number element: name, label, printf format, min, max, step, value.
pub fn num(name: &str, label: &str, format: &str, min: f64, max: f64, step: f64, value: f64) -> DefNumber {
    DefNumber { name: name.into(), label: Some(label.into()), format: format.into(), min, max, step, value }
}

/// A number vector.
pub fn number(device: &str, name: &str, label: &str, group: &str, perm: Permission, els: Vec<DefNumber>) -> DefVector {
    vector(device, name, label, group, perm, DefElements::Number(els))
}

/// A switch vector from `(name, label, on)` triples.
pub fn switch(
    device: &str,
    name: &str,
    label: &str,
    group: &str,
    rule: SwitchRule,
    els: &[(&str, &str, bool)],
) -> DefVector {
    let els = els
        .iter()
        .map(|(n, l, on)| DefSwitch { name: (*n).into(), label: Some((*l).into()), state: on_off(*on) })
        .collect();
    vector(device, name, label, group, Permission::ReadWrite, DefElements::Switch(rule, els))
}

/// A BLOB vector from `(name, label)` pairs.
pub fn blob(device: &str, name: &str, label: &str, group: &str, perm: Permission, els: &[(&str, &str)]) -> DefVector {
    let els = els.iter().map(|(n, l)| DefBlob { name: (*n).into(), label: Some((*l).into()) }).collect();
    vector(device, name, label, group, perm, DefElements::Blob(els))
}

fn on_off(on: bool) -> SwitchState {
    if on {
        SwitchState::On
    } else {
        SwitchState::Off
    }
}

/// The `setXXXVector` that publishes a vector's current state and values (BLOB vectors publish no element: their
/// payloads are sent with [`set_blob`]).
pub fn set_of(v: &DefVector, message: Option<String>) -> SetVector {
    let values = match &v.elements {
        DefElements::Text(els) => {
            Values::Text(els.iter().map(|e| OneText { name: e.name.clone(), value: e.value.clone() }).collect())
        }
        DefElements::Number(els) => {
            Values::Number(els.iter().map(|e| OneNumber { name: e.name.clone(), value: e.value }).collect())
        }
        DefElements::Switch(_, els) => {
            Values::Switch(els.iter().map(|e| OneSwitch { name: e.name.clone(), state: e.state }).collect())
        }
        DefElements::Light(els) => {
            Values::Light(els.iter().map(|e| crate::indi::OneLight { name: e.name.clone(), state: e.state }).collect())
        }
        DefElements::Blob(_) => Values::Blob(Vec::new()),
    };
    SetVector {
        device: v.device.clone(),
        name: v.name.clone(),
        state: Some(v.state),
        timeout: None,
        timestamp: Some(SystemTime::now()),
        message,
        values,
    }
}

/// A `setBLOBVector` carrying one payload.
pub fn set_blob(v: &DefVector, element: &str, format: &str, data: Vec<u8>) -> SetVector {
    let one = crate::indi::OneBlob { name: element.into(), size: data.len() as u64, format: format.into(), data };
    SetVector { values: Values::Blob(vec![one]), ..set_of(v, None) }
}

/// The element names of a vector, in order.
pub fn element_names(v: &DefVector) -> Vec<&str> {
    match &v.elements {
        DefElements::Text(e) => e.iter().map(|e| e.name.as_str()).collect(),
        DefElements::Number(e) => e.iter().map(|e| e.name.as_str()).collect(),
        DefElements::Switch(_, e) => e.iter().map(|e| e.name.as_str()).collect(),
        DefElements::Light(e) => e.iter().map(|e| e.name.as_str()).collect(),
        DefElements::Blob(e) => e.iter().map(|e| e.name.as_str()).collect(),
    }
}

/// A text element's value ("" when absent).
pub fn text_value<'a>(v: &'a DefVector, name: &str) -> &'a str {
    match &v.elements {
        DefElements::Text(els) => els.iter().find(|e| e.name == name).map_or("", |e| e.value.as_str()),
        _ => "",
    }
}

/// Sets a text element; false when there is no such element.
pub fn set_text(v: &mut DefVector, name: &str, value: &str) -> bool {
    match &mut v.elements {
        DefElements::Text(els) => els.iter_mut().find(|e| e.name == name).map(|e| e.value = value.to_owned()).is_some(),
        _ => false,
    }
}

/// A number element's value (0 when absent).
pub fn number_value(v: &DefVector, name: &str) -> f64 {
    match &v.elements {
        DefElements::Number(els) => els.iter().find(|e| e.name == name).map_or(0.0, |e| e.value),
        _ => 0.0,
    }
}

/// Sets a number element; false when there is no such element.
pub fn set_number(v: &mut DefVector, name: &str, value: f64) -> bool {
    match &mut v.elements {
        DefElements::Number(els) => els.iter_mut().find(|e| e.name == name).map(|e| e.value = value).is_some(),
        _ => false,
    }
}

/// Whether a switch element is on.
pub fn is_on(v: &DefVector, name: &str) -> bool {
    match &v.elements {
        DefElements::Switch(_, els) => els.iter().any(|e| e.name == name && e.state == SwitchState::On),
        _ => false,
    }
}

/// The first switch element that is on.
pub fn first_on(v: &DefVector) -> Option<&str> {
    match &v.elements {
        DefElements::Switch(_, els) => els.iter().find(|e| e.state == SwitchState::On).map(|e| e.name.as_str()),
        _ => None,
    }
}

/// Sets switch elements by name, enforcing the vector's rule the way libindi's `IUUpdateSwitch` does: for
/// OneOfMany/AtMostOne every other element is turned off when one is turned on. Unknown names are an error, and so
/// is a OneOfMany vector left with nothing on; nothing changes unless the whole change is valid (a refused
/// `CONNECT=Off` used to leave `CONNECTION` with both switches off and the device half disconnected; found by the
/// `device_messages` fuzz target).
pub fn update_switches(v: &mut DefVector, new: &[OneSwitch]) -> Result<(), String> {
    let DefElements::Switch(rule, current) = &mut v.elements else {
        return Err(format!("{} is not a switch", v.name));
    };
    let mut next = current.clone();
    let els = &mut next;
    if let Some(bad) = new.iter().find(|n| !els.iter().any(|e| e.name == n.name)) {
        return Err(format!("{} has no element {}", v.name, shorten(&bad.name)));
    }
    let exclusive = matches!(rule, SwitchRule::OneOfMany | SwitchRule::AtMostOne);
    let turned_on: Vec<&str> = new.iter().filter(|n| n.state == SwitchState::On).map(|n| n.name.as_str()).collect();
    if exclusive && turned_on.len() > 1 {
        return Err(format!("{} allows one element on, got {}", v.name, turned_on.join(", ")));
    }
    if exclusive && !turned_on.is_empty() {
        for e in els.iter_mut() {
            e.state = on_off(turned_on.contains(&e.name.as_str()));
        }
    } else {
        for n in new {
            if let Some(e) = els.iter_mut().find(|e| e.name == n.name) {
                e.state = n.state;
            }
        }
    }
    if *rule == SwitchRule::OneOfMany && !els.iter().any(|e| e.state == SwitchState::On) {
        return Err(format!("{} needs one element on", v.name));
    }
    *current = next;
    Ok(())
}

/// Sets number elements by name after checking every value against its element's range: nothing changes unless all
/// are valid (libindi drivers reject a whole vector the same way).
pub fn update_numbers(v: &mut DefVector, new: &[OneNumber]) -> Result<(), String> {
    let DefElements::Number(els) = &mut v.elements else {
        return Err(format!("{} is not a number vector", v.name));
    };
    for n in new {
        let Some(e) = els.iter().find(|e| e.name == n.name) else {
            return Err(format!("{} has no element {}", v.name, shorten(&n.name)));
        };
        if !n.value.is_finite() || n.value < e.min || n.value > e.max {
            // Short forms: a refused 1e308 is said as such, not in 309 digits.
            let [value, min, max] = [n.value, e.min, e.max].map(|x| {
                let mut s = String::new();
                crate::indi::format_number(x, &mut s);
                s
            });
            return Err(format!("{}.{} = {value} is outside {min}…{max}", v.name, n.name));
        }
    }
    for n in new {
        if let Some(e) = els.iter_mut().find(|e| e.name == n.name) {
            e.value = n.value;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sw() -> DefVector {
        switch("D", "S", "S", "G", SwitchRule::OneOfMany, &[("A", "A", true), ("B", "B", false)])
    }

    #[test]
    fn one_of_many_moves_the_on_state() {
        let mut v = sw();
        update_switches(&mut v, &[OneSwitch { name: "B".into(), state: SwitchState::On }]).unwrap();
        assert_eq!(first_on(&v), Some("B"));
        assert!(!is_on(&v, "A"));
    }

    #[test]
    fn one_of_many_refuses_all_off_and_unknown() {
        let mut v = sw();
        assert!(update_switches(&mut v, &[OneSwitch { name: "A".into(), state: SwitchState::Off }]).is_err());
        assert_eq!(v, sw(), "a refused change changes nothing (fuzz/seeds/device_messages/crash-connection-all-off)");
        assert!(update_switches(&mut v, &[OneSwitch { name: "Z".into(), state: SwitchState::On }]).is_err());
    }

    #[test]
    fn numbers_are_range_checked_as_a_whole() {
        let mut v = number(
            "D",
            "N",
            "N",
            "G",
            Permission::ReadWrite,
            vec![num("X", "X", "%.2f", 0.0, 1.0, 0.1, 0.5), num("Y", "Y", "%.0f", 1.0, 10.0, 1.0, 2.0)],
        );
        let bad = [OneNumber { name: "X".into(), value: 0.7 }, OneNumber { name: "Y".into(), value: 11.0 }];
        assert!(update_numbers(&mut v, &bad).is_err());
        assert_eq!(number_value(&v, "X"), 0.5);
        update_numbers(&mut v, &[OneNumber { name: "X".into(), value: 0.7 }]).unwrap();
        assert_eq!(number_value(&v, "X"), 0.7);
        assert!(update_numbers(&mut v, &[OneNumber { name: "X".into(), value: f64::NAN }]).is_err());
    }

    #[test]
    fn refusals_are_short() {
        let mut v = number("D", "N", "N", "G", Permission::ReadWrite, vec![num("X", "X", "%.2f", 0.0, 1.0, 0.1, 0.5)]);
        let one = |name: &str, value: f64| [OneNumber { name: name.into(), value }];
        assert_eq!(update_numbers(&mut v, &one("X", 1e308)).unwrap_err(), "N.X = 1e308 is outside 0…1");
        assert_eq!(
            update_numbers(&mut v, &one("X", -f64::MAX)).unwrap_err().len(),
            "N.X = -1.7976931348623157e308 is outside 0…1".len()
        );
        assert_eq!(update_numbers(&mut v, &one("X", f64::NAN)).unwrap_err(), "N.X = NaN is outside 0…1");
        let err = update_numbers(&mut v, &one(&"Y".repeat(100_000), 0.5)).unwrap_err();
        assert!(err.len() < 120, "{err}");
        let err = update_switches(&mut sw(), &[OneSwitch { name: "Z".repeat(100_000), state: SwitchState::On }]);
        assert!(err.unwrap_err().len() < 120);
    }
}
