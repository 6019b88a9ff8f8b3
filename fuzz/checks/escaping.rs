//! `ipdiag::error::{escaped, printable}` on arbitrary text (lossy UTF-8, so broken bytes
//! arrive as U+FFFD): what comes out holds no control character, no bidirectional control
//! and no line break, `escaped` never starts a GitHub workflow command (`::` after blanks), and text
//! that needed nothing comes out unchanged; `printable` also stays short.
//! Run: `cargo +nightly fuzz run escaping -- -max_total_time=60`.

use ipdiag::error::{escaped, printable};

/// Whether `c` may reach a terminal as itself.
fn harmless(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{fffd}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        ))
}

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for shown in [escaped(&text), printable(&text)] {
        assert!(shown.chars().all(harmless), "{shown:?}");
    }
    // `printable` tokens sit inside an `ipdiag: error:` line; names may start one.
    let whole = escaped(&text);
    assert!(
        !whole.trim_start_matches([' ', '\t']).starts_with("::"),
        "a workflow command: {whole:?}"
    );
    let plain =
        text.chars().all(harmless) && !text.trim_start_matches([' ', '\t']).starts_with("::");
    if plain {
        assert_eq!(whole, text, "nothing to escape, nothing changed");
    } else {
        assert_ne!(whole, text);
    }
    // Shortened to 64 characters, each escaped to at most 10 (`\u{10ffff}`), plus the note.
    assert!(printable(&text).chars().count() <= 64 * 10 + 32);
}
