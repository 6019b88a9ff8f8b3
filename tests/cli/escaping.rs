//! Strings from a file reach the terminal and the CI log escaped: a check's name with ESC,
//! BEL, CR, newline, U+202E or a `::` workflow command in it is shown as text, in the
//! table, the "Failures:" list and the GitHub annotations, and no line of ipdiag's output
//! starts with `::` except the `::error` lines it writes itself.

use super::ipdiag;
use super::probe::{closed_tcp, listening};
use std::fmt::Write as _;

/// Every line of `text` that a GitHub runner would take for a workflow command.
fn commands(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("::"))
        .collect()
}

#[test]
fn hostile_check_names_are_shown_as_text() {
    let _guard = listening();
    let port = closed_tcp();
    let dir = std::env::temp_dir().join(format!("ipdiag-escaping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("checks.toml");
    let names = [
        r"ok-looking\r0 of 1 pass\n::add-mask::secret",
        r"\u001b[32mgreen\u0007 \u202Eevil",
        "::set-output name=x::y",
    ];
    let mut text = String::new();
    for n in names {
        let _ = write!(
            text,
            "[[check]]\nname = \"{n}\"\ntarget = \"127.0.0.1:{port}\"\n\n"
        );
    }
    std::fs::write(&file, text).unwrap();
    for github in ["false", "true"] {
        let out = ipdiag()
            .args(["check", file.to_str().unwrap()])
            .env("GITHUB_ACTIONS", github)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        for raw in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
            assert!(
                !stdout.contains(raw) && !stderr.contains(raw),
                "{raw:?} in {stdout}{stderr}"
            );
        }
        assert_eq!(commands(&stdout), Vec::<&str>::new(), "{stdout}");
        let own: Vec<&str> = commands(&stderr);
        assert!(
            own.iter().all(|l| l.starts_with("::error file=")),
            "{stderr}"
        );
        assert_eq!(own.len(), if github == "true" { 3 } else { 0 }, "{stderr}");
        assert!(
            stdout.contains(r"ok-looking\r0 of 1 pass\n::add-mask::secret"),
            "the name is shown whole, escaped: {stdout}"
        );
        assert!(
            stdout.contains(r"\u{1b}[32mgreen\u{7} \u{202e}evil"),
            "{stdout}"
        );
        assert!(stdout.contains(r"\u{3a}:set-output name=x::y"), "{stdout}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
