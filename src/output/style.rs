//! Colour, decided once per run: only on a terminal, never with `NO_COLOR`, or as forced
//! by `--color always|never` (<https://no-color.org>).

use crate::model::Scope;
use comfy_table::{Cell, Color, Table};

/// Terminals narrower than this get tables at their natural width, not squeezed.
const MIN_FIT_WIDTH: u16 = 40;

/// How output should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Emit ANSI colours.
    pub color: bool,
}

/// The user's colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl Style {
    /// Decides the style from the choice and the facts the caller observed.
    pub fn decide(choice: ColorChoice, stdout_is_terminal: bool, no_color: Option<&str>) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && no_color.is_none_or(str::is_empty),
        };
        Self { color }
    }

    /// A table styled for this run (no borders; colours only when enabled).
    pub fn table(self) -> Table {
        let mut table = Table::new();
        table.load_style(comfy_table::presets::NOTHING);
        // Fit the terminal's width, unless it reports none worth fitting (a pseudo-terminal
        // without a size says 0 columns, and squeezing into that stacks letters vertically).
        if table.width().is_some_and(|w| w >= MIN_FIT_WIDTH) {
            table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        }
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table
    }

    /// Renders a table without the padding comfy-table leaves at line ends and starts.
    pub fn render(self, table: &Table) -> String {
        let lines: Vec<String> = table.lines().map(|l| l.trim_end().to_owned()).collect();
        let indent = lines
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        lines
            .iter()
            .map(|l| l.get(indent..).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A cell, coloured when colour is on.
    pub fn cell(self, text: impl ToString, color: Option<Color>) -> Cell {
        let cell = Cell::new(text);
        match color {
            Some(c) if self.color => cell.fg(c),
            _ => cell,
        }
    }

    /// Text in a colour when colour is on, with the codes a table cell of that colour gets
    /// (so a line reads like the column it echoes).
    pub fn paint(self, text: &str, color: Color) -> String {
        // The 256-colour codes crossterm writes for comfy-table's bright named colours.
        let code = match color {
            Color::Red => 9,
            Color::Green => 10,
            Color::Yellow => 11,
            Color::Blue => 12,
            Color::Magenta => 13,
            Color::Cyan => 14,
            _ => 15,
        };
        if self.color {
            format!("\x1b[38;5;{code}m{text}\x1b[39m")
        } else {
            text.to_owned()
        }
    }

    /// Text in bold when colour is on.
    pub fn bold(self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The colour of a scope: green reachable, yellow local-only, red "not a host".
pub fn scope_color(scope: Scope) -> Option<Color> {
    Some(match scope {
        Scope::Public => Color::Green,
        Scope::Private | Scope::Shared | Scope::LinkLocal | Scope::Loopback => Color::Yellow,
        Scope::Multicast | Scope::Broadcast => Color::Cyan,
        Scope::Documentation
        | Scope::Benchmarking
        | Scope::Reserved
        | Scope::Unspecified
        | Scope::ThisNetwork => Color::Red,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_decision() {
        assert!(Style::decide(ColorChoice::Auto, true, None).color);
        assert!(Style::decide(ColorChoice::Auto, true, Some("")).color);
        assert!(!Style::decide(ColorChoice::Auto, true, Some("1")).color);
        assert!(!Style::decide(ColorChoice::Auto, false, None).color);
        assert!(Style::decide(ColorChoice::Always, false, Some("1")).color);
        assert!(!Style::decide(ColorChoice::Never, true, None).color);
    }
}
