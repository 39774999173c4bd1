//! RFC 3339 timestamps (UTC) without a date/time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `2026-11-24T01:37:05Z`.
pub fn now_rfc3339() -> String {
    format_rfc3339(SystemTime::now())
}

/// `t` as `2026-11-24T01:37:05Z`.
pub fn format_rfc3339(t: SystemTime) -> String {
    let (date, secs) = split(t);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A file-name-safe stamp with nanoseconds: `20261124T013705.123456789Z`.
pub(crate) fn file_stamp(t: SystemTime) -> String {
    let (date, secs) = split(t);
    let nanos = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}T{:02}{:02}{:02}.{nanos:09}Z",
        date.replace('-', ""),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn split(t: SystemTime) -> (String, u64) {
    let total = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, secs) = (total / 86_400, total % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (format!("{y:04}-{m:02}-{d:02}"), secs)
}

/// Loose check: `YYYY-MM-DDTHH:MM:SS` then `Z` or an offset, optional fraction.
pub(crate) fn looks_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_570_625);
        assert_eq!(format_rfc3339(t), "2026-11-25T01:37:05Z");
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_rfc3339(leap), "2000-02-29T00:00:00Z");
        assert!(file_stamp(t).starts_with("20261125T013705."));
        assert!(looks_rfc3339(&now_rfc3339()));
        assert!(looks_rfc3339("2026-01-02T03:04:05.123+01:00"));
        assert!(!looks_rfc3339("yesterday"));
    }
}
