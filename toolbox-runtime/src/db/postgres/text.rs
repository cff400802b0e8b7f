//! PostgreSQL's own text forms, written from binary values: floats (shortest exact digits, with
//! PostgreSQL's switch to exponent notation), dates, times and timestamps (ISO `DateStyle`, the
//! session time zone being UTC), numerics and intervals. JSON values that have no natural JSON
//! encoding (range bounds, points) are written in these forms, so they read as `psql` prints them.

use chrono::{Datelike, Duration, NaiveDate};

/// A `float8` as PostgreSQL writes it: the shortest digits that read back exactly, in fixed
/// notation for decimal exponents from -4 to 14 and `1.5e+20` notation otherwise.
pub fn float8(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    shortest(ryu::Buffer::new().format_finite(v), v.is_sign_negative(), 15)
}

/// A `float4`, like [`float8`] with fixed notation up to exponent 5.
pub fn float4(v: f32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    shortest(ryu::Buffer::new().format_finite(v), v.is_sign_negative(), 6)
}

/// Reformats ryu's shortest digits (`1e20`, `1.5e-5`, `123.0`) the way PostgreSQL prints them.
fn shortest(ryu: &str, negative: bool, fixed_below: i32) -> String {
    let unsigned = ryu.trim_start_matches('-');
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int}{frac}");
    let leading = all.bytes().take_while(|b| *b == b'0').count();
    let digits = all[leading..].trim_end_matches('0');
    let sign = if negative { "-" } else { "" };
    if digits.is_empty() {
        return format!("{sign}0");
    }
    // The decimal exponent of the first significant digit.
    let e = int.len() as i32 - leading as i32 - 1 + exponent;
    let mut s = String::from(sign);
    if (-4..fixed_below).contains(&e) {
        if e >= 0 {
            let whole = (e + 1) as usize;
            if digits.len() <= whole {
                s.push_str(digits);
                s.extend(std::iter::repeat_n('0', whole - digits.len()));
            } else {
                s.push_str(&digits[..whole]);
                s.push('.');
                s.push_str(&digits[whole..]);
            }
        } else {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-e - 1) as usize));
            s.push_str(digits);
        }
    } else {
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push_str(&format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()));
    }
    s
}

/// 2000-01-01 as chrono counts days (0001-01-01 is day 1).
const POSTGRES_EPOCH_DAYS: i64 = 730_120;

/// A `date` (days since 2000-01-01) as `2025-01-31`, `infinity`, or `0044-03-15 BC`.
pub fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => match NaiveDate::from_num_days_from_ce_opt((POSTGRES_EPOCH_DAYS + days as i64) as i32) {
            Some(d) => ymd(d),
            None => format!("{days} days after 2000-01-01"),
        },
    }
}

fn ymd(d: NaiveDate) -> String {
    if d.year() <= 0 {
        format!("{:04}-{:02}-{:02} BC", 1 - d.year(), d.month(), d.day())
    } else {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}

/// A time of day in microseconds as `13:45:30` or `13:45:30.5`.
pub fn time(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let mut s = format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    push_fraction(&mut s, fraction);
    s
}

/// `.5` for 500 000 microseconds; nothing for zero.
fn push_fraction(s: &mut String, micros: i64) {
    if micros != 0 {
        let digits = format!("{micros:06}");
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
}

/// A zone offset in seconds east of UTC as PostgreSQL writes it: `+02`, `-05:30`, `+00`.
pub fn offset(east: i32) -> String {
    let sign = if east < 0 { '-' } else { '+' };
    let a = east.unsigned_abs();
    let mut s = format!("{sign}{:02}", a / 3600);
    if a % 3600 != 0 {
        s.push_str(&format!(":{:02}", a / 60 % 60));
        if a % 60 != 0 {
            s.push_str(&format!(":{:02}", a % 60));
        }
    }
    s
}

/// A `timestamp` (microseconds since 2000-01-01) with `separator` between date and time:
/// `2025-01-31T13:45:30.5` (JSON) or `2025-01-31 13:45:30.5` (PostgreSQL's text).
pub fn timestamp(micros: i64, separator: char) -> String {
    match micros {
        i64::MAX => return "infinity".into(),
        i64::MIN => return "-infinity".into(),
        _ => {}
    }
    let days = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let Some(d) = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|e| e.checked_add_signed(Duration::days(days))) else {
        return format!("{micros} microseconds after 2000-01-01");
    };
    let (ymd, bc) = match ymd(d) {
        s if s.ends_with(" BC") => (s.trim_end_matches(" BC").to_string(), " BC"),
        s => (s, ""),
    };
    format!("{ymd}{separator}{}{bc}", time(of_day))
}

/// An ISO 8601 duration from PostgreSQL's three fields: `P1Y2M3DT4H5M6.5S`, `PT0S` for zero.
pub fn interval(months: i32, days: i32, micros: i64) -> String {
    let mut s = String::from("P");
    let (years, months) = (months / 12, months % 12);
    if years != 0 {
        s.push_str(&format!("{years}Y"));
    }
    if months != 0 {
        s.push_str(&format!("{months}M"));
    }
    if days != 0 {
        s.push_str(&format!("{days}D"));
    }
    if micros != 0 || s == "P" {
        s.push('T');
        let (hours, rest) = (micros / 3_600_000_000, micros % 3_600_000_000);
        let (minutes, rest) = (rest / 60_000_000, rest % 60_000_000);
        if hours != 0 {
            s.push_str(&format!("{hours}H"));
        }
        if minutes != 0 {
            s.push_str(&format!("{minutes}M"));
        }
        if rest != 0 || (hours == 0 && minutes == 0) {
            if rest < 0 {
                s.push('-');
            }
            s.push_str(&format!("{}", rest.abs() / 1_000_000));
            push_fraction(&mut s, rest.abs() % 1_000_000);
            s.push('S');
        }
    }
    s
}

/// Reads an interval in PostgreSQL's default text style (`1 year 2 mons 3 days 04:05:06.5`,
/// `-1 days +01:00:00`, `00:00:00`) into months, days and microseconds.
pub fn parse_interval(text: &str) -> Option<(i32, i32, i64)> {
    let (mut months, mut days, mut micros) = (0i32, 0i32, 0i64);
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word.contains(':') {
            let negative = word.starts_with('-');
            let mut parts = word.trim_start_matches(['-', '+']).split(':');
            let hours: i64 = parts.next()?.parse().ok()?;
            let minutes: i64 = parts.next()?.parse().ok()?;
            let seconds = parts.next().unwrap_or("0");
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            let fraction: i64 = format!("{fraction:0<6}").get(..6)?.parse().ok()?;
            let total = (hours * 3600 + minutes * 60 + whole.parse::<i64>().ok()?) * 1_000_000 + fraction;
            micros += if negative { -total } else { total };
            continue;
        }
        let n: i64 = word.parse().ok()?;
        match words.next()?.trim_end_matches('s') {
            "year" => months += (n * 12) as i32,
            "mon" => months += n as i32,
            "day" => days += n as i32,
            _ => return None,
        }
    }
    Some((months, days, micros))
}

/// The binary `numeric`: digit count, weight (of the first base-10000 digit), sign, display
/// scale, then the base-10000 digits; written as exact decimal text with the scale (`49.00`).
pub fn numeric(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| bytes.get(i * 2..i * 2 + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let (count, weight, sign, scale) = (word(0)? as usize, word(1)? as i16 as i32, word(2)?, word(3)? as usize);
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..count).map(|i| word(4 + i)).collect::<Option<_>>()?;
    let digit = |position: i32| -> u16 {
        // The base-10000 digit at `position` (weight counts down from the first digit).
        let index = weight - position;
        if index < 0 || index as usize >= digits.len() { 0 } else { digits[index as usize] }
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(weight).to_string());
        for position in (0..weight).rev() {
            text.push_str(&format!("{:04}", digit(position)));
        }
    }
    if scale > 0 {
        text.push('.');
        let mut fraction = String::new();
        let mut position = -1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(position)));
            position -= 1;
        }
        fraction.truncate(scale);
        text.push_str(&fraction);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_postgres_prints_them() {
        let cases: [(f64, &str); 9] = [
            (1e20, "1e+20"),
            (1.5e-5, "1.5e-05"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (100000000000000.0, "100000000000000"),
            (1e15, "1e+15"),
            (-0.0, "-0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for (v, text) in cases {
            assert_eq!(float8(v), text, "{v}");
        }
        assert_eq!(float4(1.1), "1.1");
        assert_eq!(float4(1234567.0), "1.234567e+06");
        assert_eq!(float4(123456.0), "123456");
        assert_eq!(float8(f64::INFINITY), "Infinity");
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(9162), "2025-01-31");
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let bc = (NaiveDate::from_ymd_opt(-43, 3, 15).unwrap() - epoch).num_days() as i32;
        assert_eq!(date(bc), "0044-03-15 BC");
        assert_eq!(date(i32::MAX), "infinity");
        assert_eq!(time(49_530_500_000), "13:45:30.5");
        assert_eq!(timestamp(0, 'T'), "2000-01-01T00:00:00");
        assert_eq!(timestamp(-1, ' '), "1999-12-31 23:59:59.999999");
        assert_eq!(offset(7200), "+02");
        assert_eq!(offset(-19800), "-05:30");
    }

    #[test]
    fn numerics_keep_their_scale() {
        fn numeric_bytes(count: u16, weight: i16, sign: u16, scale: u16, digits: &[u16]) -> Vec<u8> {
            [count, weight as u16, sign, scale].iter().chain(digits).flat_map(|w| w.to_be_bytes()).collect()
        }
        assert_eq!(numeric(&numeric_bytes(2, 0, 0, 2, &[62, 100])).unwrap(), "62.01");
        assert_eq!(numeric(&numeric_bytes(1, 0, 0, 2, &[49])).unwrap(), "49.00");
        assert_eq!(numeric(&numeric_bytes(3, 1, 0x4000, 3, &[12, 3456, 7800])).unwrap(), "-123456.780");
        assert_eq!(numeric(&numeric_bytes(1, -1, 0, 5, &[12])).unwrap(), "0.00120");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
    }

    #[test]
    fn intervals() {
        assert_eq!(interval(14, 3, 4 * 3_600_000_000 + 5 * 60_000_000 + 6_500_000), "P1Y2M3DT4H5M6.5S");
        assert_eq!(interval(0, 0, 0), "PT0S");
        assert_eq!(interval(0, -1, 0), "P-1D");
        assert_eq!(parse_interval("1 year 2 mons 3 days 04:05:06.5"), Some((14, 3, 14_706_500_000)));
        assert_eq!(parse_interval("-1 years -2 mons +3 days -04:05:06"), Some((-14, 3, -14_706_000_000)));
        assert_eq!(parse_interval("00:00:00"), Some((0, 0, 0)));
    }
}
