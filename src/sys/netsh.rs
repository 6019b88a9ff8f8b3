//! Windows' port facts from `netsh`'s text: the dynamic (ephemeral) port range
//! (`netsh int ipv4 show dynamicport tcp`) and the excluded port ranges no program may bind
//! (`netsh int ipv4 show excludedportrange protocol=tcp`: Hyper-V, WSL, `WinNAT` and Docker
//! reserve blocks there, and a server that tries one fails with WSAEACCES). Reading text
//! keeps this free of `unsafe`; the IP Helper equivalents are undocumented for exclusions.
//! The labels are translated on localised systems, so the parsers read the numbers' places,
//! not the words. Pure, compiled and tested everywhere.

use crate::classify::port::PortFacts;
use std::fmt::Write as _;

/// The dynamic range from `show dynamicport`: the first two numbers after the dashed line
/// (`Start Port : 49152`, `Number of Ports : 16384`). `None` when they are not there or do
/// not make a range within 1-65535.
pub fn parse_dynamic(text: &str) -> Option<(u16, u16)> {
    let mut numbers = text
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("---"))
        .filter_map(|line| line.rsplit_once(':'))
        .filter_map(|(_, value)| value.trim().parse::<u32>().ok());
    let (start, count) = (numbers.next()?, numbers.next()?);
    let last = start.checked_add(count)?.checked_sub(1)?;
    let start = u16::try_from(start).ok().filter(|s| *s > 0)?;
    let last = u16::try_from(last).ok()?;
    (count > 0).then_some((start, last))
}

/// The excluded ranges from `show excludedportrange`: every line of two port numbers
/// (`  50000   50059   *`; the star marks an administrator's exclusion), in order.
pub fn parse_excluded(text: &str) -> Vec<(u16, u16)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let first = words.next()?.parse::<u16>().ok()?;
            let last = words.next()?.parse::<u16>().ok()?;
            match words.next() {
                None | Some("*") if first <= last => Some((first, last)),
                _ => None,
            }
        })
        .collect()
}

/// Whether `port` is in one of the excluded ranges.
pub fn is_excluded(facts: &PortFacts, port: u16) -> bool {
    facts
        .excluded
        .iter()
        .any(|(first, last)| (*first..=*last).contains(&port))
}

/// The note under `ipdiag port`'s table when a port shown is excluded.
pub fn excluded_note(facts: &PortFacts) -> String {
    let mut ranges = String::new();
    for (i, (first, last)) in facts.excluded.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        if first == last {
            let _ = write!(ranges, "{sep}{first}");
        } else {
            let _ = write!(ranges, "{sep}{first}-{last}");
        }
    }
    format!(
        "excluded: Windows reserves {ranges} (netsh int ipv4 show excludedportrange \
         protocol=tcp); no program may bind these, so a server there fails with WSAEACCES \
         (10013)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `netsh int ipv4 show dynamicport tcp` on Windows 10 (English).
    const DYNAMIC: &str = "\r\nProtocol tcp Dynamic Port Range\r\n\
        ---------------------------------\r\n\
        Start Port      : 49152\r\n\
        Number of Ports : 16384\r\n\r\n";

    /// The same on a German system, after an administrator moved the range.
    const DYNAMIC_DE: &str = "\nProtokoll tcp Dynamischer Portbereich\n\
        ---------------------------------\n\
        Startport       : 10000\n\
        Anzahl der Ports: 1000\n";

    /// `netsh int ipv4 show excludedportrange protocol=tcp` with Hyper-V's blocks and one
    /// administered exclusion.
    const EXCLUDED: &str = "\r\nProtocol tcp Port Exclusion Ranges\r\n\r\n\
        Start Port    End Port\r\n\
        ----------    --------\r\n\
        \x20     1110        1209\r\n\
        \x20     5357        5357\r\n\
        \x20    50000       50059     *\r\n\r\n\
        * - Administered port exclusions.\r\n\r\n";

    #[test]
    fn the_dynamic_range_is_start_and_count() {
        assert_eq!(parse_dynamic(DYNAMIC), Some((49152, 65535)));
        assert_eq!(parse_dynamic(DYNAMIC_DE), Some((10000, 10999)));
        assert_eq!(parse_dynamic(""), None);
        assert_eq!(
            parse_dynamic("The following command was not found: int."),
            None
        );
        let past_the_end = DYNAMIC.replace("16384", "16385");
        assert_eq!(parse_dynamic(&past_the_end), None, "ends after 65535");
        assert_eq!(parse_dynamic(&DYNAMIC.replace("16384", "0")), None);
        assert_eq!(parse_dynamic(&DYNAMIC.replace("49152", "0")), None);
    }

    #[test]
    fn excluded_ranges_are_every_line_of_two_ports() {
        assert_eq!(
            parse_excluded(EXCLUDED),
            [(1110, 1209), (5357, 5357), (50000, 50059)]
        );
        assert_eq!(parse_excluded(""), []);
        assert_eq!(parse_excluded("  9 8\n  1 2 x\n 70000 70001\n"), []);
    }

    #[test]
    fn the_note_lists_the_ranges() {
        let facts = PortFacts {
            excluded: parse_excluded(EXCLUDED),
            ..PortFacts::default()
        };
        assert!(is_excluded(&facts, 1110) && is_excluded(&facts, 50059));
        assert!(!is_excluded(&facts, 1210) && !is_excluded(&facts, 5356));
        assert_eq!(
            excluded_note(&facts),
            "excluded: Windows reserves 1110-1209, 5357, 50000-50059 (netsh int ipv4 show \
             excludedportrange protocol=tcp); no program may bind these, so a server there \
             fails with WSAEACCES (10013)."
        );
    }
}
