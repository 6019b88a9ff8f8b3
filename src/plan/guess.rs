//! What a target that does not parse was probably meant to be, said in the error: habits
//! from nc and tcping (`HOST PORT`), from browsers (a URL), from wait4x (`wait HOST:PORT
//! COMMAND` without `--`), and the IPv6 network with a port (`::/0:80`).
//!
//! Pure: each function looks at the text the user typed and returns the [`Problem`] to
//! report, or `None` to keep the parser's own. Nothing here resolves or reads anything.

use crate::error::{Problem, printable};
use std::net::Ipv6Addr;

/// `80` as a target: a port written where a host was expected. `previous` is the target
/// before it, if any (`probe 1.2.3.4 80`); `port_flag` says whether the command takes
/// `-p PORTS` (probe does, wait does not).
pub fn bare_port(token: &str, previous: Option<&str>, port_flag: bool) -> Option<Problem> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port: u16 = token.parse().ok()?;
    let host = previous
        .filter(|p| !p.is_empty() && !p.contains("]:") && !has_port(p))
        .map_or_else(|| "HOST".to_owned(), bracketed);
    let flag = if port_flag {
        format!(" (or -p {port})")
    } else {
        String::new()
    };
    Some(Problem::LooksLikePort(format!(
        "{}:{port}{flag}",
        printable(&host)
    )))
}

/// Whether a target as written carries a port (`web:80`; not `2001:db8::1`).
fn has_port(text: &str) -> bool {
    text.matches(':').count() == 1
}

/// An IPv6 address gets brackets before a port is appended to it.
fn bracketed(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// `https://127.0.0.1:8443/path`: a URL, which names `127.0.0.1:8443` (or the scheme's
/// port: `https://web/` is `web:443`).
pub fn url(token: &str) -> Option<Problem> {
    let (scheme, rest) = token.split_once("://")?;
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    let suggestion = if authority.is_empty() {
        "HOST:PORT".to_owned()
    } else if authority.ends_with(']') || !authority.contains(':') {
        match scheme_port(scheme) {
            Some(port) => format!("{authority}:{port}"),
            None => format!("{authority}:PORT"),
        }
    } else {
        authority.to_owned()
    };
    Some(Problem::Url(printable(&suggestion)))
}

/// The port a URL scheme implies when the URL names none (IANA's service names).
fn scheme_port(scheme: &str) -> Option<u16> {
    Some(match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "ftp" => 21,
        "ssh" | "sftp" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "imap" => 143,
        "imaps" => 993,
        "ldap" => 389,
        "ldaps" => 636,
        "postgres" | "postgresql" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mongodb" => 27017,
        "amqp" => 5672,
        "mqtt" => 1883,
        _ => return None,
    })
}

/// `::/0:80` or `2001:db8::/126:22`: an IPv6 network followed by a port, which only
/// brackets can tell apart (`[2001:db8::]/126:22`).
pub fn v6_network_with_port(token: &str) -> Option<Problem> {
    let (network, after) = token.split_once('/')?;
    let (len, ports) = after.split_once(':')?;
    if ports.is_empty()
        || len.is_empty()
        || !len.bytes().all(|b| b.is_ascii_digit())
        || network.parse::<Ipv6Addr>().is_err()
    {
        return None;
    }
    Some(Problem::V6NetworkWithPort(printable(&format!(
        "[{network}]/{len}:{ports}"
    ))))
}

/// `wait db:5432 ./migrate.sh`: a word that cannot be a target but reads as the command
/// to run, which `wait` takes after `--`. `index` is its place among the targets (any
/// word without a port after a target qualifies); `before` and `rest` are the targets
/// before it and the words from it on, for the corrected command line.
pub fn wait_command(index: usize, before: &[String], rest: &[String]) -> Option<Problem> {
    let word = rest.first()?;
    let path_like = word.starts_with(['.', '/', '~']) || word.contains('/');
    if word.contains(':') || !(path_like || index > 0) {
        return None;
    }
    let mut line = String::from("ipdiag wait");
    for target in before {
        line.push(' ');
        line.push_str(target);
    }
    line.push_str(" --");
    for word in rest {
        line.push(' ');
        line.push_str(word);
    }
    let line = printable(&line);
    // `wait db:5432 cache` may be a target without its port as much as a command.
    Some(if path_like {
        Problem::CommandWithoutDashes(line)
    } else {
        Problem::NoPortOrCommand(line)
    })
}

/// `[fe80::1]:80` without `%IFACE`: a link-local address exists on every link, so the
/// kernel needs to be told which one (RFC 4007 §6). The suggestion keeps the rest as written.
pub fn link_local_zone(text: &str, address: &str) -> Problem {
    let with_zone = format!("{address}%IFACE");
    let suggestion = if text.starts_with('[') {
        text.replacen(address, &with_zone, 1)
    } else {
        with_zone
    };
    Problem::LinkLocalNeedsZone(printable(&suggestion))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("80", Some("1.2.3.4"), true, Some("1.2.3.4:80 (or -p 80)"); "after an IPv4 address")]
    #[test_case("80", Some("::1"), true, Some("[::1]:80 (or -p 80)"); "after an IPv6 address")]
    #[test_case("80", Some("web:22"), false, Some("HOST:80"); "after a target with a port")]
    #[test_case("443", None, true, Some("HOST:443 (or -p 443)"); "alone")]
    #[test_case("70000", None, true, None; "not a port")]
    #[test_case("web", None, true, None; "a name")]
    fn bare_ports(token: &str, previous: Option<&str>, flag: bool, want: Option<&str>) {
        assert_eq!(
            bare_port(token, previous, flag),
            want.map(|w| Problem::LooksLikePort(w.to_owned()))
        );
    }

    #[test_case("https://127.0.0.1:8443/", "127.0.0.1:8443")]
    #[test_case("http://web/index.html", "web:80")]
    #[test_case("https://user:pw@[2001:db8::1]/", "[2001:db8::1]:443")]
    #[test_case("gopher://web", "web:PORT")]
    #[test_case("http://", "HOST:PORT")]
    fn urls(token: &str, want: &str) {
        assert_eq!(url(token), Some(Problem::Url(want.to_owned())));
    }

    #[test]
    fn not_urls() {
        assert_eq!(url("web:80"), None);
    }

    #[test_case("::/0:80", Some("[::]/0:80"))]
    #[test_case("2001:db8::/126:22,80", Some("[2001:db8::]/126:22,80"))]
    #[test_case("10.0.0.0/30:22", None)]
    #[test_case("::/0", None)]
    fn v6_networks(token: &str, want: Option<&str>) {
        assert_eq!(
            v6_network_with_port(token),
            want.map(|w| Problem::V6NetworkWithPort(w.to_owned()))
        );
    }

    #[test]
    fn wait_commands() {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            wait_command(1, &words(&["db:5432"]), &words(&["./migrate.sh", "-v"])),
            Some(Problem::CommandWithoutDashes(
                "ipdiag wait db:5432 -- ./migrate.sh -v".to_owned()
            ))
        );
        assert_eq!(
            wait_command(1, &words(&["db:5432"]), &words(&["make"])),
            Some(Problem::NoPortOrCommand(
                "ipdiag wait db:5432 -- make".to_owned()
            ))
        );
        assert_eq!(wait_command(0, &[], &words(&["web"])), None, "a first name");
        assert_eq!(wait_command(1, &words(&["a:1"]), &words(&["b:x"])), None);
    }

    #[test]
    fn link_local() {
        assert_eq!(
            link_local_zone("[fe80::1]:80", "fe80::1"),
            Problem::LinkLocalNeedsZone("[fe80::1%IFACE]:80".to_owned())
        );
        assert_eq!(
            link_local_zone("fe80::1", "fe80::1"),
            Problem::LinkLocalNeedsZone("fe80::1%IFACE".to_owned())
        );
    }
}
