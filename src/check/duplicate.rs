//! The TOML reader's "duplicate key" names neither the key nor its table; both are in the
//! text at the error's place, so the message says them (`duplicate key `target` in the
//! [[check]] of line 4`), as every other error of a check file does.

use std::ops::Range;

/// The message for a duplicate key whose name the reader's error spans.
pub fn message(text: &str, span: &Range<usize>) -> String {
    let key = text
        .get(span.clone())
        .unwrap_or_default()
        .trim()
        .trim_matches(['"', '\'']);
    let before = text.get(..span.start).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text
        .get(line_start..)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_default();
    if header(line).is_some() {
        return format!(
            "duplicate table [{key}]: a table is written once (each check has its own [[check]])"
        );
    }
    let place = if before[line_start..].contains('{') {
        "in an inline table".to_owned()
    } else {
        table_above(&before[..line_start])
    };
    format!("duplicate key `{key}` {place}: each key is written once per table")
}

/// `in [defaults]`, `in the [[check]] of line 4`, or `at the top level`: the nearest
/// table header above.
fn table_above(text: &str) -> String {
    let found = text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| header(line).map(|h| (i + 1, h)))
        .last();
    match found {
        Some((line, (name, true))) => format!("in the [[{name}]] of line {line}"),
        Some((_, (name, false))) => format!("in [{name}]"),
        None => "at the top level".to_owned(),
    }
}

/// A table header line's name and whether it is an array of tables (`[[check]]`).
pub(super) fn header(line: &str) -> Option<(&str, bool)> {
    let line = line.trim();
    let (open, close, array) = if line.starts_with("[[") {
        ("[[", "]]", true)
    } else {
        ("[", "]", false)
    };
    let inner = line.strip_prefix(open)?;
    let end = inner.find(close)?;
    let rest = inner[end + close.len()..].trim_start();
    let name = inner[..end].trim();
    let is_key = |c: char| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c);
    (!name.is_empty() && name.chars().all(is_key) && (rest.is_empty() || rest.starts_with('#')))
        .then_some((name, array))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, key: &str, nth: usize) -> String {
        let start = text.match_indices(key).nth(nth).unwrap().0;
        message(text, &(start..start + key.len()))
    }

    #[test]
    fn names_the_key_and_its_table() {
        let file = "[defaults]\ntimeout = \"1s\"\n\n[[check]] # web\ntarget = \"a:1\"\n  target = \"b:2\"\n";
        assert_eq!(
            at(file, "target", 1),
            "duplicate key `target` in the [[check]] of line 4: each key is written once per table"
        );
        let file = "[defaults]\ntimeout = \"1s\"\n\"timeout\" = \"2s\"\n";
        assert_eq!(
            at(file, "\"timeout\"", 0),
            "duplicate key `timeout` in [defaults]: each key is written once per table"
        );
        assert_eq!(
            at("a = 1\na = 2\n", "a", 1),
            "duplicate key `a` at the top level: each key is written once per table"
        );
        assert_eq!(
            at(
                "check = [{ target = \"a:1\", target = \"b:2\" }]\n",
                "target",
                1
            ),
            "duplicate key `target` in an inline table: each key is written once per table"
        );
    }

    #[test]
    fn a_table_written_twice() {
        assert_eq!(
            at("[defaults]\n[[check]]\n[ defaults ]\n", "defaults", 1),
            "duplicate table [defaults]: a table is written once (each check has its own [[check]])"
        );
    }

    #[test]
    fn header_lines() {
        assert_eq!(header("[[check]]  # a"), Some(("check", true)));
        assert_eq!(header(" [defaults]"), Some(("defaults", false)));
        assert_eq!(header("[1, 2],"), None);
        assert_eq!(header("ports = [80]"), None);
        assert_eq!(header("[]"), None);
    }
}
