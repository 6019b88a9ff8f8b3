//! Rendering: results in, text out (table, JSON, JSON lines, CSV).
//!
//! Nothing here knows about sockets, clap or exit codes. Each command has a sink per format
//! that takes records one at a time, so a stream of millions of results renders in bounded
//! memory; colour is decided once by the caller and passed in as a [`Style`].

pub mod check_github;
pub mod check_json;
pub mod check_junit;
pub mod check_report;
pub mod check_table;
pub mod classify_csv;
pub mod classify_json;
pub mod classify_sink;
pub mod classify_table;
pub mod csv;
pub mod diagnosis_text;
pub mod doctor_json;
pub mod doctor_text;
pub mod idle_text;
pub mod json_stream;
pub mod load_text;
pub mod local_receive;
pub mod local_report;
pub mod local_watch;
pub mod merge_json;
pub mod merge_junit;
pub mod merge_table;
pub mod ping_text;
pub mod port_csv;
pub mod port_json;
pub mod port_table;
pub mod probe_csv;
pub mod probe_json;
pub mod probe_live;
pub mod probe_table;
pub mod probe_text;
pub mod prometheus;
pub mod serve_log;
pub mod sizes_text;
pub mod style;
pub mod trace_multipath;
pub mod trace_text;

pub use style::Style;

/// The output formats every command offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable tables (the default).
    #[default]
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line, written as results arrive.
    Jsonl,
    /// CSV with a header row.
    Csv,
    /// Prometheus' text format (`probe` and `check`: `node_exporter`'s textfile collector).
    Prometheus,
}

impl Format {
    /// The format in words, for messages: "CSV", "JSON lines".
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Table => "a table",
            Self::Json => "JSON",
            Self::Jsonl => "JSON lines",
            Self::Csv => "CSV",
            Self::Prometheus => "Prometheus metrics",
        }
    }
}
