//! `ipdiag merge`: the reports of `check` or `probe` from several vantage points (every node
//! of a cluster, every CI runner, the office and the cloud) read and judged into one verdict
//! per endpoint, which no single place can give: "filtered from everywhere" is the server's
//! firewall, "filtered from one place only" a source rule or that place's egress.
//!
//! Pure: `report` reads the JSON text, `judge` decides; `app::merge` reads the files and
//! `output::merge_*` renders.

mod elsewhere;
pub mod judge;
pub mod report;

pub use judge::{Judged, Merged, Verdict, merge};
pub use report::{EndpointKey, Report, ReportError, Seen, parse_report};
