//! Unix seconds as UTC calendar text: ISO 8601 for files and scripts, a
//! minute-precision form for tables. The store keeps times as unix seconds;
//! only these conversions are needed, so no date crate.

/// Seconds a day.
const DAY: i64 = 86_400;
/// Beyond this many seconds from 1970 (about year 30 000) a stored time is
/// taken for garbage, not a date.
const MAX_ABS_SECONDS: f64 = 1e12;

/// Now, as unix seconds (0 on a clock set before 1970).
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The time as ISO 8601 UTC with milliseconds, `2026-12-02T16:40:12.345Z`;
/// `None` for a value that is no time (NaN, infinite, absurdly far).
pub fn iso8601(unix: f64) -> Option<String> {
    let (date, ms_of_day) = split(unix)?;
    let (h, m, s, ms) = clock(ms_of_day);
    Some(format!("{date}T{h:02}:{m:02}:{s:02}.{ms:03}Z"))
}

/// The time to the minute, `2026-12-02 16:40` (UTC), for tables; `-` for a
/// value that is no time.
pub fn minute(unix: f64) -> String {
    match split(unix) {
        Some((date, ms_of_day)) => {
            let (h, m, _, _) = clock(ms_of_day);
            format!("{date} {h:02}:{m:02}")
        }
        None => "-".into(),
    }
}

/// `YYYY-MM-DD` and the milliseconds into that day.
fn split(unix: f64) -> Option<(String, i64)> {
    if !unix.is_finite() || unix.abs() > MAX_ABS_SECONDS {
        return None;
    }
    let ms = (unix * 1000.0).round() as i64;
    let days = ms.div_euclid(DAY * 1000);
    let (y, m, d) = civil_from_days(days);
    Some((format!("{y:04}-{m:02}-{d:02}"), ms.rem_euclid(DAY * 1000)))
}

fn clock(ms_of_day: i64) -> (i64, i64, i64, i64) {
    let s = ms_of_day / 1000;
    (s / 3600, s / 60 % 60, s % 60, ms_of_day % 1000)
}

/// The proleptic Gregorian date `days` after 1970-01-01, by counting 400-year
/// eras from 0000-03-01 (so that the leap day ends each year of the count).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March.
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_8601_matches_the_calendar() {
        let iso = |t| iso8601(t).unwrap();
        assert_eq!(iso(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(951_782_400.0), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(1_709_164_800.5), "2024-02-29T00:00:00.500Z");
        assert_eq!(iso(1_796_155_798.110_72), "2026-12-01T20:09:58.111Z");
        assert_eq!(iso(-1.0), "1969-12-31T23:59:59.000Z");
        assert_eq!(iso(253_402_300_799.0), "9999-12-31T23:59:59.000Z");
        // Rounding to the millisecond carries into the next day.
        assert_eq!(iso(86_399.999_6), "1970-01-02T00:00:00.000Z");
    }

    #[test]
    fn every_day_follows_the_one_before() {
        let mut previous = civil_from_days(-800_000);
        for days in -799_999..800_000 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let next_day = (y, m, d) == (py, pm, pd + 1);
            let next_month = (y, m, d) == (py, pm + 1, 1) && pd >= 28;
            let next_year = (y, m, d) == (py + 1, 1, 1) && (pm, pd) == (12, 31);
            assert!(
                next_day || next_month || next_year,
                "{previous:?} -> {y}-{m}-{d}"
            );
            previous = (y, m, d);
        }
    }

    #[test]
    fn tables_show_the_minute_and_no_time_is_no_date() {
        assert_eq!(minute(1_796_155_798.110_72), "2026-12-01 20:09");
        assert_eq!(minute(f64::NAN), "-");
        assert_eq!(iso8601(f64::INFINITY), None);
        assert_eq!(iso8601(1e300), None);
    }
}
