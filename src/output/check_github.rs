//! GitHub Actions annotations for failed checks (`::error file=...,line=...::message`),
//! printed when `GITHUB_ACTIONS=true` so each failure shows on the check file's line in the
//! pull request; a bad check file gets one at its line and column. <https://docs.github.com/actions/reference/workflow-commands-for-github-actions>

use super::check_report::CheckView;
use crate::error::escaped;
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
            property(&format!("ipdiag check: {}", escaped(&view.check.name))),
            data(&view.failure_message())
        );
    }
    out
}

/// The `::error` line for a problem in the check file itself, at its line and column (the
/// run stops there: exit 2 with the usual one-line error too).
pub fn file_error(file: &str, line: usize, column: usize, message: &str) -> String {
    format!(
        "::error file={},line={line},col={column},title={}::{}\n",
        property(file),
        property("ipdiag check: bad check file"),
        data(message)
    )
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
    fn a_bad_file_is_annotated_at_its_place() {
        assert_eq!(
            file_error("ci/ipdiag.toml", 3, 10, "unknown variant `up`, 50%"),
            "::error file=ci/ipdiag.toml,line=3,col=10,title=ipdiag check%3A bad check file::unknown variant `up`, 50%25\n"
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(data("50% lost\nnext"), "50%25 lost%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
