//! GitHub Actions annotations for failed checks (`::error file=...,line=...::message`),
//! printed when `GITHUB_ACTIONS=true` so each failure shows on the check file's line in the
//! pull request. <https://docs.github.com/actions/reference/workflow-commands-for-github-actions>

use super::check_report::CheckView;
use std::fmt::Write as _;

/// One `::error` line per failing check.
pub fn annotations(views: &[CheckView<'_>], file: &str) -> String {
    let mut out = String::new();
    for view in views.iter().filter(|v| !v.outcome.holds()) {
        let _ = writeln!(
            out,
            "::error file={},line={},title={}::{}",
            property(file),
            view.check.line,
            property(&format!("ipdiag check: {}", view.check.name)),
            data(&view.failure_message())
        );
    }
    out
}

/// Escapes a message (the part after `::`).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`), where `:` and `,` are separators too.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50% lost\nnext"), "50%25 lost%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
