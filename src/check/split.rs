//! Where each `[[check]]` table of a check file starts and ends, found with the TOML reader's
//! own lexer (strings, multi-line strings and comments are single tokens, so a `[[check]]`
//! inside one is never taken for a header). The file can then be read one check at a time:
//! the TOML reader keeps every token and event of a document in memory (about 2 KB per
//! check), which made a file of a million checks need gigabytes.
//!
//! Pure; it must not decide whether the file is valid (the TOML reader does that, table by
//! table). It gives up (`None`) on any layout where reading the tables apart could differ
//! from reading the file whole: a header naming `check` in any other form than `[[check]]`.

use super::duplicate::header;
use std::ops::Range;
use toml_parser::Source;
use toml_parser::lexer::TokenKind;

/// A check file cut at its top-level table headers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Each `[[check]]` table, from its header to the next header (or the end), in file order.
    pub checks: Vec<Range<usize>>,
    /// Everything else in file order: the top-level keys before the first header and the
    /// other tables (`[defaults]`).
    pub rest: Vec<Range<usize>>,
}

/// Cuts `text` at its top-level table headers, or `None` when a header names `check` in a
/// form other than `[[check]]` (`[check]`, `[check.x]`, `[["check"]]`): the whole-file
/// reader then gives its exact message.
pub fn split(text: &str) -> Option<Split> {
    let mut split = Split::default();
    // The table being read: where it starts and whether it is a `[[check]]`.
    let (mut start, mut is_check) = (0, false);
    // Brackets and braces open in values (arrays and inline tables span lines).
    let mut depth = 0usize;
    let mut line_start = true;
    // The rest of a header's line is not a value: its brackets are not counted.
    let mut in_header = false;
    for token in Source::new(text).lex() {
        match token.kind() {
            TokenKind::Newline => {
                (line_start, in_header) = (true, false);
                continue;
            }
            TokenKind::Whitespace => continue,
            TokenKind::Eof => break,
            _ => {}
        }
        let first_on_line = std::mem::replace(&mut line_start, false);
        if in_header {
            continue;
        }
        match token.kind() {
            TokenKind::LeftSquareBracket if depth == 0 && first_on_line => {
                let at = token.span().start();
                let line = text[at..].lines().next().unwrap_or_default();
                let check = header(line) == Some(("check", true));
                if !check && names_check(line) {
                    return None;
                }
                split.push(start..at, is_check);
                (start, is_check, in_header) = (at, check, true);
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => depth += 1,
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    split.push(start..text.len(), is_check);
    Some(split)
}

impl Split {
    fn push(&mut self, range: Range<usize>, is_check: bool) {
        if is_check {
            self.checks.push(range);
        } else if !range.is_empty() {
            self.rest.push(range);
        }
    }
}

/// Whether a header line other than `[[check]]` mentions `check` before any comment.
fn names_check(line: &str) -> bool {
    let quoted = line.contains(['"', '\'']);
    let bracketed = if quoted {
        line
    } else {
        line.split('#').next().unwrap_or_default()
    };
    bracketed.contains("check")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces<'a>(text: &'a str, ranges: &[Range<usize>]) -> Vec<&'a str> {
        ranges.iter().map(|r| &text[r.clone()]).collect()
    }

    #[test]
    fn cuts_at_headers() {
        let text = "# top\n[defaults]\ntimeout = \"1s\"\n[[check]]\ntarget = \"a:1\"\n\n  [[ check ]] # b\ntarget = \"b:2\"";
        let cut = split(text).unwrap();
        assert_eq!(
            pieces(text, &cut.checks),
            [
                "[[check]]\ntarget = \"a:1\"\n\n  ",
                "[[ check ]] # b\ntarget = \"b:2\""
            ]
        );
        assert_eq!(
            pieces(text, &cut.rest),
            ["# top\n", "[defaults]\ntimeout = \"1s\"\n"]
        );
    }

    #[test]
    fn headers_inside_strings_and_values_are_not_headers() {
        let text = "[[check]]\nname = \"\"\"\n[[check]]\n\"\"\"\nports = [\n[80],\n]\nx = '''\n[defaults]'''\n[[check]]\n";
        let cut = split(text).unwrap();
        assert_eq!(cut.checks.len(), 2, "{cut:?}");
        assert_eq!(cut.checks[1], text.rfind("[[check]]").unwrap()..text.len());
        assert!(cut.rest.is_empty());
        let inline = "[[check]]\nt = { a = [1,\n2] }\n[defaults]\n";
        assert_eq!(split(inline).unwrap().rest.len(), 1);
    }

    #[test]
    fn other_forms_of_check_are_left_to_the_whole_file_reader() {
        for text in [
            "[[check]]\ntarget = \"a:1\"\n[check.x]\n",
            "[check]\n",
            "[[\"check\"]]\n",
            "[[check.sub]]\n",
        ] {
            assert_eq!(split(text), None, "{text}");
        }
        // A comment naming it is not a header naming it.
        assert_eq!(
            split("[defaults] # for every check\n").unwrap().rest.len(),
            1
        );
    }

    #[test]
    fn a_file_without_headers_is_all_rest() {
        let text = "check = [{ target = \"a:1\" }]\n";
        let cut = split(text).unwrap();
        assert!(cut.checks.is_empty());
        assert_eq!(pieces(text, &cut.rest), [text]);
    }
}
