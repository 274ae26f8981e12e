//! Time without a calendar crate: Unix seconds to and from RFC 3339, ASN.1 UTCTime and
//! GeneralizedTime, and RFC 5322 Date headers. All in UTC.

/// Seconds since 1970-01-01T00:00:00Z.
pub type UnixTime = i64;

pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since the epoch of a civil date (proleptic Gregorian), Howard Hinnant's algorithm.
/// None when the year is so far out that the count does not fit.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let y = if m <= 2 { y.checked_sub(1)? } else { y };
    let era = if y >= 0 { y } else { y.checked_sub(399)? } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.checked_mul(146097)?.checked_add(doe - 719468)
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Seconds for a UTC civil time, checking every field's range. None when the time does not fit
/// in a `UnixTime`.
pub fn from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<UnixTime> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    days_from_civil(y, mo, d)?.checked_mul(86400)?.checked_add((h * 3600 + mi * 60 + s.min(59)) as i64)
}

/// `2026-11-27T10:00:00Z`.
pub fn to_rfc3339(t: UnixTime) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86400));
    let secs = t.rem_euclid(86400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Parses RFC 3339 (`2026-11-27T10:00:00Z`, `…+01:00`, fractional seconds ignored) or a bare
/// date (`2026-11-27`, midnight UTC).
pub fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    let t = text.trim();
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = t.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    if b.len() == 10 {
        return from_civil(num(0..4)? as i64, num(5..7)?, num(8..10)?, 0, 0, 0);
    }
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let base = from_civil(num(0..4)? as i64, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?)?;
    let mut rest = t.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) && rest.get(3..4) == Some(":") => {
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            let off = h * 3600 + m * 60;
            if rest.starts_with('+') { off } else { -off }
        }
        _ => return None,
    };
    base.checked_sub(offset)
}

/// ASN.1 UTCTime (`YYMMDDHHMM[SS]Z`, 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSS[.f]Z`).
pub fn parse_asn1_time(text: &[u8], generalized: bool) -> Option<UnixTime> {
    let s = std::str::from_utf8(text).ok()?;
    let s = s.strip_suffix('Z')?;
    let (year, rest) = if generalized {
        (s.get(0..4)?.parse::<i64>().ok()?, s.get(4..)?)
    } else {
        let yy = s.get(0..2)?.parse::<i64>().ok()?;
        (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
    };
    let rest = rest.split('.').next()?;
    if !rest.bytes().all(|c| c.is_ascii_digit()) || !(rest.len() == 8 || rest.len() == 10) {
        return None;
    }
    let f = |i: usize| rest[i..i + 2].parse::<u32>().ok();
    let sec = if rest.len() == 10 { f(8)? } else { 0 };
    from_civil(year, f(0)?, f(2)?, f(4)?, f(6)?, sec)
}

/// RFC 5322 date-time (`Fri, 27 Nov 2026 10:00:00 +0100`), with the obsolete forms real mail
/// uses: no weekday, two-digit years, named zones, missing seconds, comments.
pub fn parse_rfc5322_date(text: &str) -> Option<UnixTime> {
    let cleaned: String = {
        // Drop comments such as "(CET)".
        let mut depth = 0;
        text.chars()
            .filter(|&c| match c {
                '(' => { depth += 1; false }
                ')' => { depth = (depth - 1).max(0); false }
                _ => depth == 0,
            })
            .collect()
    };
    let mut words: Vec<&str> = cleaned.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    if words.first().is_some_and(|w| w.chars().all(|c| c.is_ascii_alphabetic())) {
        words.remove(0); // weekday
    }
    if words.len() < 4 {
        return None;
    }
    let day: u32 = words[0].parse().ok()?;
    let month = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        .iter()
        .position(|m| words[1].get(..3).is_some_and(|w| w.eq_ignore_ascii_case(m)))? as u32
        + 1;
    let mut year: i64 = words[2].parse().ok()?;
    if words[2].len() <= 2 {
        year += if year < 50 { 2000 } else { 1900 };
    } else if words[2].len() == 3 {
        year += 1900;
    }
    // A Date header's year has four digits (RFC 5322 asks for at least four, but reports give
    // times as RFC 3339, which has four). Far larger ones do not fit the arithmetic, here or
    // where the date is compared with other times.
    if !(0..=9999).contains(&year) {
        return None;
    }
    let hms: Vec<u32> = words[3].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let (h, mi, s) = match hms.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let base = from_civil(year, month, day, h, mi, s)?;
    let offset = match words.get(4).copied() {
        None => 0,
        Some(z) if (z.starts_with('+') || z.starts_with('-')) && z.len() == 5 => {
            let v: i64 = z.get(1..)?.parse().ok()?;
            let secs = (v / 100) * 3600 + (v % 100) * 60;
            if z.starts_with('-') { -secs } else { secs }
        }
        Some(z) => match z.to_ascii_uppercase().as_str() {
            "UT" | "GMT" | "Z" => 0,
            "EDT" => -4 * 3600,
            "EST" | "CDT" => -5 * 3600,
            "CST" | "MDT" => -6 * 3600,
            "MST" | "PDT" => -7 * 3600,
            "PST" => -8 * 3600,
            _ => 0, // obsolete military zones are to be treated as -0000
        },
    };
    base.checked_sub(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_accepts_offsets() {
        let t = parse_rfc3339("2026-11-27T10:00:00Z").unwrap();
        assert_eq!(to_rfc3339(t), "2026-11-27T10:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-27T11:00:00.123+01:00"), Some(t));
        assert_eq!(parse_rfc3339("2027-01-01"), parse_rfc3339("2027-01-01T00:00:00Z"));
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn asn1_times() {
        assert_eq!(parse_asn1_time(b"240101000000Z", false), parse_rfc3339("2024-01-01T00:00:00Z"));
        assert_eq!(parse_asn1_time(b"500101000000Z", false), parse_rfc3339("1950-01-01T00:00:00Z"));
        assert_eq!(parse_asn1_time(b"20500101000000Z", true), parse_rfc3339("2050-01-01T00:00:00Z"));
        assert_eq!(parse_asn1_time(b"2405", false), None);
    }

    #[test]
    fn mail_dates_in_their_many_forms() {
        let t = parse_rfc3339("2026-11-27T09:00:00Z");
        assert_eq!(parse_rfc5322_date("Fri, 27 Nov 2026 10:00:00 +0100"), t);
        assert_eq!(parse_rfc5322_date("27 Nov 2026 09:00:00 GMT"), t);
        assert_eq!(parse_rfc5322_date("Fri, 27 Nov 26 04:00 EST (Eastern)"), t);
        assert_eq!(parse_rfc5322_date("not a date"), None);
    }

    /// Non-ASCII text where the parsers expect ASCII used to be sliced inside a character.
    #[test]
    fn non_ascii_where_ascii_is_expected_is_no_time() {
        assert_eq!(parse_rfc5322_date("27 ää 2026 10:00:00"), None);
        assert_eq!(parse_rfc5322_date("27 Nä 2026 10:00:00"), None);
        assert_eq!(parse_rfc5322_date("27 Növ 2026 10:00:00"), None);
        assert_eq!(parse_rfc5322_date("27 Nov 2026 10:00:00 +ä00"), None);
        assert_eq!(parse_rfc5322_date("27 Nov. 2026 10:00:00"), parse_rfc3339("2026-11-27T10:00:00Z"));
        assert_eq!(parse_rfc3339("2026-11-27T10:00:00+€00"), None);
        assert_eq!(parse_rfc3339("2026-11-27T10:00:00+0€0"), None);
        assert_eq!(parse_rfc3339("2026-11-27T10:00:00-€"), None);
        assert_eq!(parse_rfc3339("2026-11-27T10:00:0€"), None);
        assert_eq!(parse_rfc3339("2026-11-27T10:00:00.5€"), None);
        assert_eq!(parse_rfc3339("2026-11-2€"), None);
        assert_eq!(parse_asn1_time("2405€€€€€Z".as_bytes(), false), None);
        assert_eq!(parse_asn1_time("2024€€€€€€Z".as_bytes(), true), None);
    }

    /// Years far out used to overflow (a panic in debug builds, a wrong time in release).
    #[test]
    fn years_far_out_are_no_time() {
        assert_eq!(parse_rfc5322_date("1 Jan 999999999999 00:00:00"), None);
        assert_eq!(parse_rfc5322_date("1 Jan 9223372036854775807 23:59:59 -9959"), None);
        assert_eq!(parse_rfc5322_date("1 Jan -9223372036854775808 00:00:00 +9959"), None);
        assert_eq!(parse_rfc5322_date("1 Jan 10000 00:00:00"), None);
        assert_eq!(parse_rfc5322_date("31 Dec 9999 23:59:59 -2359"), parse_rfc3339("9999-12-31T23:59:59-23:59"));
        assert_eq!(parse_rfc5322_date("1 Jan 0000 00:00:00"), parse_rfc3339("0000-01-01T00:00:00Z"));
        assert_eq!(parse_rfc5322_date("1 Jan 1900 00:00:00"), Some(-2208988800));
        assert_eq!(from_civil(i64::MAX, 12, 31, 23, 59, 59), None);
        assert_eq!(from_civil(i64::MIN, 1, 1, 0, 0, 0), None);
        // The extremes that still fit, and one second beyond them.
        assert_eq!(from_civil(292277026596, 12, 4, 15, 30, 7), Some(i64::MAX));
        assert_eq!(from_civil(292277026596, 12, 4, 15, 30, 8), None);
    }
}
