//! Scalar values as INDI spells them: numbers (decimal or sexagesimal) and UTC timestamps.
//!
//! INDI numbers may be written sexagesimally (`"12:30:00"`, `"-0 30 00"`), as libindi's `f_scansexa` accepts, so a
//! plain `str::parse::<f64>` is not enough. Timestamps are UTC without a zone suffix (`2026-11-25T19:13:03`); a tiny
//! civil-calendar conversion (Howard Hinnant's `days_from_civil`) avoids a date-time dependency.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses an INDI number: a decimal float (`1.5`, `-2e-3`, `nan`) or a sexagesimal `[-+]D[:; ]M[[:; ]S]` where
/// each part may have decimals (`"12:30:00"` is 12.5, `"-0:30"` is -0.5). Surrounding whitespace is ignored.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(value) = text.parse::<f64>() {
        return Some(value);
    }
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value = 0.0;
    let mut parts = 0;
    for part in body.split([':', ';', ' ']).filter(|p| !p.is_empty()) {
        // Only digits and one dot per part: no signs, exponents or names inside a sexagesimal value.
        if !part.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        let part: f64 = part.parse().ok()?;
        value += part / 60f64.powi(parts);
        parts += 1;
        if parts > 3 {
            return None;
        }
    }
    if parts < 2 {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Formats a number for the wire, `%g`-like but without losing precision: the shortest decimal that parses back
/// to the same `f64`, in exponent form outside `[1e-5, 1e15)`. libindi writes values with `%.20g` for the same
/// reason; the element's `format` attribute is for display by clients, not for the wire.
pub fn format_number(value: f64, out: &mut String) {
    let magnitude = value.abs();
    let _ = if value == 0.0 || !value.is_finite() || (1e-5..1e15).contains(&magnitude) {
        write!(out, "{value}")
    } else {
        write!(out, "{value:e}")
    };
}

/// Formats a time as INDI's UTC timestamp `YYYY-MM-DDTHH:MM:SS` (whole seconds, no zone suffix).
pub fn format_timestamp(time: SystemTime) -> String {
    let seconds: i64 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        // Round towards the past so that 1969-12-31T23:59:59.5 prints as ...:59.
        Err(before) => {
            let d = before.duration();
            -(d.as_secs() as i64) - i64::from(d.subsec_nanos() > 0)
        }
    };
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", in_day / 3600, in_day / 60 % 60, in_day % 60)
}

/// Parses an INDI timestamp `YYYY-MM-DDTHH:MM:SS[.fff]`, tolerating a trailing `Z` (some clients add one).
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = digits(date_parts.next()?, 4)?;
    let month: u32 = digits(date_parts.next()?, 2)? as u32;
    let day: u32 = digits(date_parts.next()?, 2)? as u32;
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (time, None),
    };
    let mut time_parts = hms.splitn(3, ':');
    let hour = digits(time_parts.next()?, 2)?;
    let minute = digits(time_parts.next()?, 2)?;
    let second = digits(time_parts.next()?, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let nanos = match fraction {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let whole = Duration::from_secs(seconds.unsigned_abs());
    let base = if seconds >= 0 { UNIX_EPOCH.checked_add(whole)? } else { UNIX_EPOCH.checked_sub(whole)? };
    base.checked_add(Duration::from_nanos(u64::from(nanos)))
}

/// Parses exactly `count` ASCII digits.
fn digits(text: &str, count: usize) -> Option<i64> {
    (text.len() == count && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant, "chrono-Compatible Low-Level Date Algorithms").
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_decimal_and_sexagesimal() {
        assert_eq!(parse_number(" 1.5\n"), Some(1.5));
        assert_eq!(parse_number("-2e-3"), Some(-2e-3));
        assert_eq!(parse_number("12:30:00"), Some(12.5));
        assert_eq!(parse_number("12:30"), Some(12.5));
        assert_eq!(parse_number("-0:30:00"), Some(-0.5));
        assert!((parse_number("+10 15 36").unwrap() - 10.26).abs() < 1e-12);
        assert!((parse_number("5;06").unwrap() - 5.1).abs() < 1e-12);
        for bad in ["", "abc", "1:2:3:4", "1:-2", "1:x", "--1", "1.2.3", ":"] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn number_formatting_round_trips() {
        for value in [0.0, 1.0, -1.5, 0.1, 1e-7, 123_456_789.125, 6.02e23, -3.3e-300, f64::MAX] {
            let mut text = String::new();
            format_number(value, &mut text);
            assert_eq!(parse_number(&text), Some(value), "{text}");
        }
        let mut text = String::new();
        format_number(2.0, &mut text);
        assert_eq!(text, "2");
    }

    #[test]
    fn timestamps() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_633_983);
        assert_eq!(format_timestamp(t), "2026-11-25T19:13:03");
        assert_eq!(parse_timestamp("2026-11-25T19:13:03"), Some(t));
        assert_eq!(parse_timestamp("2026-11-25T19:13:03Z"), Some(t));
        assert_eq!(parse_timestamp("2026-11-25T19:13:03.25"), Some(t + Duration::from_millis(250)));
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00");
        let leap = parse_timestamp("2024-02-29T00:00:00").unwrap();
        assert_eq!(format_timestamp(leap), "2024-02-29T00:00:00");
        let old = parse_timestamp("1969-07-20T20:17:40").unwrap();
        assert_eq!(format_timestamp(old), "1969-07-20T20:17:40");
        for bad in ["", "2026-11-25", "2026-13-01T00:00:00", "2023-02-29T00:00:00", "2026-11-25T24:00:00", "x"] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }
}
