//! The exporter's page (`/`): its modules, the allow-list and the last probes, as a short
//! HTML page (every value from a request escaped). Pure.

use super::allow::AllowList;
use super::modules::Module;
use crate::model::{Reason, State};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

/// One probe as the page lists it.
#[derive(Debug, Clone)]
pub struct Recent {
    /// When it started.
    pub at: Instant,
    /// The target as asked.
    pub target: String,
    /// The module.
    pub module: String,
    /// The state found.
    pub state: State,
    /// Its reason.
    pub reason: Reason,
    /// The diagnosis's cause.
    pub cause: &'static str,
    /// `probe_success`.
    pub success: bool,
    /// How long it took.
    pub seconds: f64,
}

/// `<`, `>`, `&` and quotes as entities.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page.
pub fn render_page(
    modules: &[Arc<Module>],
    recent: &[Recent],
    allow: &AllowList,
    now: Instant,
) -> String {
    let mut p = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ipdiag exporter</title></head><body>\n<h1>ipdiag exporter</h1>\n<p>Probe: <code>/probe?target=HOST:PORT&amp;module=NAME</code> · own metrics: <a href=\"/metrics\">/metrics</a></p>\n",
    );
    let targets = if allow.is_empty() {
        "any (listening on loopback)".to_owned()
    } else {
        let nets: Vec<String> = allow.networks().iter().map(ToString::to_string).collect();
        nets.join(", ")
    };
    let _ = writeln!(p, "<p>Targets allowed: {}</p>", html(&targets));
    p.push_str("<h2>Modules</h2>\n<table>\n<tr><th>module</th><th>protocol</th><th>expect</th><th>count</th><th>timeout</th><th>responder</th><th>doctor</th></tr>\n");
    for m in modules {
        let _ = writeln!(
            p,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td><td>{}</td></tr>",
            html(&m.name),
            m.protocol,
            html(m.expect.as_str()),
            m.timing.count,
            m.timing.timeout.as_millis(),
            m.responder,
            m.doctor
        );
    }
    p.push_str("</table>\n<h2>Recent probes</h2>\n");
    if recent.is_empty() {
        p.push_str("<p>None yet.</p>\n");
    } else {
        p.push_str("<table>\n<tr><th>started</th><th>target</th><th>module</th><th>state</th><th>reason</th><th>cause</th><th>success</th><th>seconds</th></tr>\n");
        for r in recent {
            let _ = writeln!(
                p,
                "<tr><td>{} s ago</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td></tr>",
                now.saturating_duration_since(r.at).as_secs(),
                html(&r.target),
                html(&r.module),
                html(r.state.as_str()),
                r.reason,
                r.cause,
                u8::from(r.success),
                r.seconds
            );
        }
        p.push_str("</table>\n");
    }
    p.push_str("</body></html>\n");
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::modules::builtins;

    #[test]
    fn lists_modules_and_escapes_targets() {
        let modules: Vec<Arc<Module>> = builtins().into_iter().map(Arc::new).collect();
        let now = Instant::now();
        let recent = [Recent {
            at: now,
            target: "<script>:1".into(),
            module: "tcp".into(),
            state: State::Closed,
            reason: Reason::ConnRefused,
            cause: "not_listening",
            success: false,
            seconds: 0.0012,
        }];
        let page = render_page(&modules, &recent, &AllowList::default(), now);
        assert!(
            page.contains(
                "<tr><td>tcp_closed</td><td>tcp</td><td>closed</td><td>1</td><td>1000 ms</td>"
            ),
            "{page}"
        );
        assert!(page.contains("<td>&lt;script&gt;:1</td><td>tcp</td><td>closed</td><td>conn-refused</td><td>not_listening</td><td>0</td><td>0.001</td>"), "{page}");
        assert!(!page.contains("<script>"));
        assert!(page.contains("Targets allowed: any (listening on loopback)"));
    }
}
