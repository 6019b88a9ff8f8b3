//! Typed errors and the exit codes they map to (DESIGN.md "Exit codes").
//!
//! An `Err` means the *run* failed; per-item problems inside a stream are reported and
//! counted by the command, not raised here. Every message is one line that names the bad
//! token, because scripts grep stderr and people read only the first line.

use std::fmt::Write as _;
use std::io;
use thiserror::Error;

/// Exit code: everything asked for is as expected.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run worked but something failed (unreachable, bad lines in a stream).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: bad input or usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the environment refused (privileges, cannot bind, ...).
pub const EXIT_ENVIRONMENT: u8 = 3;

/// Tokens longer than this are shortened in messages, so a 1 MB line stays one short line.
const MAX_SHOWN_CHARS: usize = 64;

/// This system's words for the commands an error text suggests (interfaces, zones).
const HERE_WORDS: &crate::sys::Words = crate::sys::System::HERE.words();

/// Why a token is not what it should be. The text after "invalid X 'token': ".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[expect(
    missing_docs,
    reason = "each variant's #[error] text is its documentation"
)]
pub enum Problem {
    #[error("empty")]
    Empty,
    #[error("expected 4 numbers separated by dots, found {0}")]
    PartCount(usize),
    #[error("number {0} of 4 is empty")]
    EmptyPart(usize),
    #[error("'{0}' has a leading zero (ambiguous: some tools read it as octal)")]
    LeadingZero(String),
    #[error("{0} is out of range (0-255)")]
    OctetRange(String),
    #[error("unexpected character {0:?}")]
    Character(char),
    #[error("nothing after '/'")]
    MissingPrefix,
    #[error("prefix length '{0}' is not a number")]
    PrefixNotNumber(String),
    #[error("prefix length {len} is out of range for IPv{version} (0-{max})")]
    PrefixRange { len: String, version: u8, max: u8 },
    #[error("remove the ':{0}' (for the port: ipdiag port {0})")]
    WithPort(String),
    #[error("not a valid IPv6 address")]
    Ipv6Syntax,
    #[error("{0:?} is not allowed in a host name (letters, digits, '-' and '.')")]
    HostCharacter(char),
    #[error("a host name label is empty or longer than 63 characters")]
    HostLabelLength,
    #[error("a host name label starts or ends with '-'")]
    HostLabelHyphen,
    #[error("longer than 253 characters")]
    HostLength,
    #[error("the last label is all digits, so this is neither an IPv4 address nor a host name")]
    NumericTopLabel,
    #[error("{0} is out of range (0-65535)")]
    PortRange(String),
    #[error("ports are 0-65535; negative numbers are not ports")]
    NegativePort,
    #[error("range start {0} is greater than end {1}")]
    RangeOrder(u16, u16),
    #[error("no IANA service name or known alias matches")]
    UnknownService,
    #[error("unknown protocol '{0}' (tcp, udp, sctp or dccp)")]
    UnknownTransport(String),
    #[error("a host name, and --numeric forbids resolving names")]
    NameWithNumeric,
    #[error("hex needs two digits per byte")]
    OddHex,
    #[error("expected a duration such as 250ms, 1s or 1.5s")]
    Duration,
    #[error("an IPv6 address with a port is written [ADDRESS]:PORT")]
    Unbracketed,
    #[error("nothing after ':' (write HOST:PORT)")]
    MissingPort,
    #[error("no port: write HOST:PORT or give -p PORTS")]
    NoPort,
    #[error("no port: write HOST:PORT")]
    NoPortGiven,
    #[error("no port (an IPv6 address with a port is written [ADDRESS]:PORT; or give -p PORTS)")]
    NoPortV6,
    #[error("doctor diagnoses one port at a time: write HOST:PORT (probe takes lists and ranges)")]
    OnePort,
    #[error("trace follows one port: write HOST:PORT")]
    TraceOnePort,
    #[error("ICMP echo has no port: write HOST with --icmp")]
    IcmpNoPort,
    #[error("--loss-split measures one port of one host: write HOST:PORT")]
    LossSplitOnePort,
    #[error("--idle-test measures one port of one host: write HOST:PORT")]
    IdleTestOnePort,
    #[error("must be above 0s and at most 180s, the longest a responder holds a reply")]
    IdleMax,
    #[error("must be between {0} and {1}")]
    Between(u32, u32),
    #[error("the responder answers only datagrams of {min} bytes or more ({why})")]
    ResponderMinimum { min: usize, why: &'static str },
    #[error("{0} address reaches many hosts: refused (probe --allow-broadcast does it anyway)")]
    Broadcast(&'static str),
    #[error("{0} addresses is more than one run probes (at most 65536)")]
    TooManyAddresses(String),
    #[error("{0} endpoints (with the targets before it) is more than one run probes (at most {1})")]
    TooManyEndpoints(usize, usize),
    #[error("not an IPv{0} address (-{0} was given)")]
    WrongFamily(u8),
    #[error("ipdiag probes tcp and udp, not {0}")]
    NotProbeable(String),
    #[error("a network, not one host (give one of its addresses)")]
    NetworkNotHost,
    #[error("brackets are for IPv6 addresses: write ADDRESS:PORT")]
    BracketsNotV6,
    #[error("the zone after '%' must be an interface name or index")]
    BadZone,
    #[error(
        "zone index 0 names no interface: write the interface's name or index ({})",
        HERE_WORDS.interfaces
    )]
    ZoneIndexZero,
    #[error("no interface '{0}' on this host ({list})", list = HERE_WORDS.interfaces)]
    UnknownInterface(String),
    #[error(
        "a link-local address needs its interface: write {0} ({shows})",
        shows = HERE_WORDS.link_local
    )]
    LinkLocalNeedsZone(String),
    #[error("unknown state '{0}' (open, closed, filtered, open|filtered, error, or any)")]
    UnknownState(String),
    #[error("looks like a port: write {0}")]
    LooksLikePort(String),
    #[error("a URL, not a target: write {0}")]
    Url(String),
    #[error("looks like a command: it goes after -- ({0})")]
    CommandWithoutDashes(String),
    #[error("no port: write HOST:PORT; a command to run goes after -- ({0})")]
    NoPortOrCommand(String),
    #[error("an IPv6 network with a port is written [NETWORK]/LEN:PORT ({0})")]
    V6NetworkWithPort(String),
    #[error("an empty item in the list (two commas, or one at an end)")]
    EmptyItem,
    #[error(
        "nothing listens on port 0 (binding it asks the OS for any free port), so it has no state to wait for or check"
    )]
    PortZero,
    #[error("must be greater than zero")]
    NotPositive,
    #[error("expected a number")]
    NotANumber,
    #[error("expected an address or network (198.51.100.7, 198.51.100.0/24), not a name")]
    NotAnAddress,
    #[error(
        "expected one address of this host (0.0.0.0, ::, or an interface's address), not a name or network"
    )]
    NotOneAddress,
    #[error("not valid UTF-8")]
    NotUtf8,
    #[error("line is longer than {0} bytes")]
    LineTooLong(usize),
    #[error("unbalanced quotes or a trailing backslash")]
    ShellQuoting,
    #[error("the server watches one protocol at a time: give --tcp or --udp, not --both")]
    OnServerOneProtocol,
}

/// A token the user gave that is not a valid address, CIDR, host, port, ... .
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {what} '{token}': {problem}")]
pub struct InputError {
    /// What the token was read as: "IPv4 address", "CIDR", "port", ...
    pub what: &'static str,
    /// The token, made printable and shortened (see [`printable`]).
    pub token: String,
    /// Why it was rejected.
    pub problem: Problem,
}

impl InputError {
    /// Builds the error, making the token safe to print on one line.
    pub fn new(what: &'static str, token: &str, problem: Problem) -> Self {
        Self {
            what,
            token: printable(token),
            problem,
        }
    }
}

/// Makes a token safe for a one-line message: control and non-printable characters are
/// escaped (`\n`, `\u{1b}`, see [`escaped`]) and anything past 64 characters is cut with a
/// byte count.
pub fn printable(token: &str) -> String {
    let mut shown = String::new();
    for (count, c) in token.chars().enumerate() {
        if count == MAX_SHOWN_CHARS {
            let _ = write!(shown, "... ({} bytes)", token.len());
            break;
        }
        push_escaped(&mut shown, c);
    }
    shown
}

/// Whether a character must not reach a terminal or a log as itself: control characters
/// (ESC starts terminal sequences, CR and newline forge lines, BEL rings), the replacement
/// character (a broken byte), and the bidirectional controls (U+202A-U+202E, U+2066-U+2069,
/// U+200E, U+200F, U+061C: "Trojan Source", CVE-2021-42574) that reorder what is shown.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{fffd}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    if needs_escape(c) {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// A string from a file, the network or the command line made safe for a terminal or a
/// log, whole (not shortened, unlike [`printable`]): the characters of `needs_escape`
/// escaped, and a leading `::` (after blanks) turned into `\u{3a}:`, so a name can never
/// make a line that GitHub Actions runs as a workflow command (`::add-mask::`); only the
/// `::error` lines ipdiag writes itself start with `::`.
pub fn escaped(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let blanks = text.len() - text.trim_start_matches([' ', '\t']).len();
    for (i, c) in text.char_indices() {
        if i == blanks && text.get(i..).is_some_and(|t| t.starts_with("::")) {
            shown.push_str("\\u{3a}");
        } else {
            push_escaped(&mut shown, c);
        }
    }
    shown
}

/// What was wrong with one line of a file or stdin: the token on it, or the line itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineError {
    /// The line's token is invalid.
    #[error(transparent)]
    Token(#[from] InputError),
    /// The line could not be read as text (too long, not UTF-8).
    #[error("{0} (skipped)")]
    Line(Problem),
}

/// Why a run failed. Maps to an exit code with [`Error::exit_code`].
#[derive(Debug, Error)]
pub enum Error {
    /// A bad token on the command line.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A bad line in a file or stdin, in `--strict` mode.
    #[error("{source_name}:{line}: {error}")]
    InputLine {
        /// The file name, or `<stdin>`.
        source_name: String,
        /// 1-based line number.
        line: u64,
        /// What was wrong with the line.
        error: LineError,
    },
    /// A problem in a check file, at a line and column.
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        /// The path as the user gave it.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what was expected there.
        message: String,
    },
    /// A command-line usage error (reported by the argument parser).
    #[error("{0}")]
    Usage(String),
    /// An input file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path as the user gave it.
        path: String,
        /// The system's reason.
        source: io::Error,
    },
    /// An input file that is not what the command reads (`merge`: not an ipdiag report,
    /// or a report of another schema version).
    #[error("{path}: {message}")]
    Report {
        /// The path as the user gave it.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The environment refused: no privileges, a resource the run cannot do without.
    #[error("{0}")]
    Environment(String),
    /// Output could not be written (a closed pipe is handled quietly by `main`).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
}

impl Error {
    /// The process exit code for this error (DESIGN.md "Exit codes").
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_)
            | Error::InputLine { .. }
            | Error::Config { .. }
            | Error::Usage(_)
            | Error::Read { .. }
            | Error::Report { .. } => EXIT_USAGE,
            Error::Write(_) => EXIT_FAILURE,
            Error::Environment(_) => EXIT_ENVIRONMENT,
        }
    }

    /// True when stdout was closed by the reader (`ipdiag ... | head`): not an error.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Error::Write(error)
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\nb\u{1b}"), "a\\nb\\u{1b}");
        assert_eq!(printable("x\u{202e}y\u{7}"), "x\\u{202e}y\\u{7}");
    }

    #[test]
    fn escaped_keeps_everything_and_no_line_starts_a_workflow_command() {
        let name = "ok-looking\r0 of 1 pass\n::add-mask::secret";
        assert_eq!(
            escaped(name),
            "ok-looking\\r0 of 1 pass\\n::add-mask::secret",
            "one line: the `::` is no longer at a line start"
        );
        assert_eq!(escaped("  ::add-mask::x"), "  \\u{3a}:add-mask::x");
        assert_eq!(escaped("db on ::1"), "db on ::1");
        assert_eq!(escaped("\u{1b}[31mred\u{7}"), "\\u{1b}[31mred\\u{7}");
        let long = "é".repeat(100);
        assert_eq!(escaped(&long), long, "not shortened");
    }

    #[test]
    fn printable_shortens_long_tokens() {
        let long = "x".repeat(100);
        assert_eq!(
            printable(&long),
            format!("{}... (100 bytes)", "x".repeat(64))
        );
    }

    #[test]
    fn input_error_names_the_token() {
        let e = InputError::new(
            "IPv4 address",
            "256.1.1.1",
            Problem::OctetRange("256".into()),
        );
        assert_eq!(
            e.to_string(),
            "invalid IPv4 address '256.1.1.1': 256 is out of range (0-255)"
        );
    }

    #[test]
    fn exit_codes() {
        let input = Error::from(InputError::new("port", "x", Problem::Empty));
        assert_eq!(input.exit_code(), EXIT_USAGE);
        let pipe = Error::Write(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(pipe.is_broken_pipe());
        assert_eq!(pipe.exit_code(), EXIT_FAILURE);
    }
}
