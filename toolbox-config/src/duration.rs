//! Durations in settings: `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds where the
//! reference takes seconds (`connectTimeout: 10`).

use std::time::Duration;

/// Parses a duration; `bare_seconds` allows a plain number, read as seconds.
pub fn parse(text: &str, bare_seconds: bool) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" if bare_seconds => value,
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    // `try_from`: a duration beyond `Duration`'s range (`20000000000000000000000ms`) is not a
    // duration, where `from_secs_f64` panics; the fuzz suite found it in `queryTimeout`.
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("30s", false), Some(Duration::from_secs(30)));
        assert_eq!(parse("500ms", false), Some(Duration::from_millis(500)));
        assert_eq!(parse("2m", false), Some(Duration::from_secs(120)));
        assert_eq!(parse("10", true), Some(Duration::from_secs(10)));
        assert_eq!(parse("10", false), None);
        assert_eq!(parse("ten", true), None);
        assert_eq!(parse("5d", false), None);
        assert_eq!(parse("20000000000000000000000ms", false), None, "beyond Duration's range");
        assert_eq!(parse("99999999999999999999h", true), None);
        assert_eq!(parse("-1s", false), None);
    }
}
