//! Durations as people write them: `250ms`, `1s`, `1.5s`, `2m`, `1h`; a bare number is
//! seconds (as ping's `-i` and `-W`).

use crate::error::{InputError, Problem};
use std::time::Duration;

/// Parses a duration; `what` names the option in errors (`--timeout`).
pub fn parse_duration(what: &'static str, text: &str) -> Result<Duration, InputError> {
    let err = |p| InputError::new(what, text, p);
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| err(Problem::Duration))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" => value,
        "ms" => value / 1000.0,
        "us" | "µs" => value / 1_000_000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(err(Problem::Duration)),
    };
    if !seconds.is_finite() || !(0.0..=86_400.0 * 366.0).contains(&seconds) {
        return Err(err(Problem::Duration));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A duration the way [`parse_duration`] reads it back: `10s`, `250ms`, `1.5s` (whole
/// milliseconds; below one, `0ms`).
pub fn format_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.subsec_millis())
    } else {
        let millis = format!("{:03}", d.subsec_millis());
        format!("{}.{}s", d.as_secs(), millis.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_what_it_parses() {
        for (millis, text) in [(10_000, "10s"), (250, "250ms"), (1500, "1.5s"), (0, "0ms")] {
            let d = Duration::from_millis(millis);
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration("--for", text), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_micros(1_020_500)), "1.02s");
    }

    #[test]
    fn forms() {
        let d = |t| parse_duration("--timeout", t).unwrap();
        assert_eq!(d("250ms"), Duration::from_millis(250));
        assert_eq!(d("1s"), Duration::from_secs(1));
        assert_eq!(d("1.5s"), Duration::from_millis(1500));
        assert_eq!(d("0.2"), Duration::from_millis(200));
        assert_eq!(d("2m"), Duration::from_secs(120));
        assert_eq!(d("10 ms"), Duration::from_millis(10));
    }

    #[test]
    fn errors() {
        let e = |t| parse_duration("--timeout", t).unwrap_err().to_string();
        assert_eq!(
            e("fast"),
            "invalid --timeout 'fast': expected a duration such as 250ms, 1s or 1.5s"
        );
        assert_eq!(
            e("5 parsecs"),
            "invalid --timeout '5 parsecs': expected a duration such as 250ms, 1s or 1.5s"
        );
        assert_eq!(
            e("-1s"),
            "invalid --timeout '-1s': expected a duration such as 250ms, 1s or 1.5s"
        );
        assert_eq!(
            e(""),
            "invalid --timeout '': expected a duration such as 250ms, 1s or 1.5s"
        );
    }
}
