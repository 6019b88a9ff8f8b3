//! Content negotiation: which text format a scraper asked for in its `Accept` header.
//! Prometheus asks for OpenMetrics first and the text format 0.0.4 at a lower weight
//! (`application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`);
//! curl asks for `*/*`, which gets the text format. Pure.

use crate::output::prometheus::TextFormat;

/// The format for an `Accept` header (none: the text format). The highest weight wins; on
/// a tie the first listed; a header naming neither format still gets the text format, as
/// every exporter answers a browser.
pub fn negotiate(accept: Option<&str>) -> TextFormat {
    let Some(accept) = accept else {
        return TextFormat::Prometheus;
    };
    let mut best: Option<(f64, TextFormat)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let format = match media.as_str() {
            "application/openmetrics-text" => TextFormat::OpenMetrics,
            "text/plain" | "text/*" | "*/*" => TextFormat::Prometheus,
            _ => continue,
        };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, v)| v.trim().parse::<f64>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, format));
        }
    }
    best.map_or(TextFormat::Prometheus, |(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(None, TextFormat::Prometheus; "no header")]
    #[test_case(Some("*/*"), TextFormat::Prometheus; "curl")]
    #[test_case(
        Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
        TextFormat::OpenMetrics;
        "prometheus 2"
    )]
    #[test_case(Some("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5"), TextFormat::Prometheus; "weights")]
    #[test_case(Some("application/openmetrics-text; q=0, text/plain"), TextFormat::Prometheus; "refused")]
    #[test_case(Some("application/json"), TextFormat::Prometheus; "neither")]
    #[test_case(Some("Application/OpenMetrics-Text"), TextFormat::OpenMetrics; "case")]
    fn accept(header: Option<&str>, format: TextFormat) {
        assert_eq!(negotiate(header), format);
    }
}
