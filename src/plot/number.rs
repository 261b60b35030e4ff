//! Numbers as short text: three significant digits and SI suffixes, for
//! legends and log-axis ticks.

/// SI suffixes for 10^3, 10^6, ... (also used by linear-axis ticks).
pub(super) const SI: [&str; 6] = ["k", "M", "G", "T", "P", "E"];

/// Formats a number compactly with three significant digits and an SI suffix
/// for large magnitudes: `1234567.0` -> "1.23M", `12.34` -> "12.3",
/// `0.5` -> "0.5", `2e-5` -> "2e-5". Trailing zeros are dropped.
pub fn compact_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if a < 1e-3 {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    if a < 1e3 {
        return trim_zeros(&significant(v, 3));
    }
    let mut idx = ((a.log10() / 3.0).floor() as usize).min(SI.len());
    loop {
        let scaled = v / 1e3f64.powi(idx as i32);
        let s = trim_zeros(&significant(scaled, 3));
        // 999_950 rounds to "1000k"; move up a prefix instead.
        let too_big = s.trim_start_matches('-').split('.').next().map(str::len) > Some(3);
        if too_big && idx < SI.len() {
            idx += 1;
            continue;
        }
        return format!("{s}{}", SI[idx - 1]);
    }
}

fn significant(v: f64, digits: i32) -> String {
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers() {
        assert_eq!(compact_number(0.0), "0");
        assert_eq!(compact_number(12.345), "12.3");
        assert_eq!(compact_number(1.5), "1.5");
        assert_eq!(compact_number(250.0), "250");
        assert_eq!(compact_number(1_234_567.0), "1.23M");
        assert_eq!(compact_number(2_000_000.0), "2M");
        assert_eq!(compact_number(999_950.0), "1M");
        assert_eq!(compact_number(3.4e9), "3.4G");
        assert_eq!(compact_number(-45_600.0), "-45.6k");
        assert_eq!(compact_number(0.00002), "2e-5");
    }
}
