use super::*;
use crate::plan::target::HostSpec;

/// Parses `text` table by table (where it can) and whole: the two readers agree.
fn parse(text: &str) -> Result<CheckFile, ConfigError> {
    let read = parse_check_file(text);
    assert_eq!(read, whole(text), "the readers differ on {text:?}");
    read
}

fn err(text: &str) -> String {
    let e = parse(text).unwrap_err();
    format!("{}:{}: {}", e.line, e.column, e.message)
}

fn ok(text: &str) -> CheckFile {
    parse(text).unwrap()
}

fn ports(check: &Check) -> Vec<u16> {
    check
        .target
        .ports
        .iter()
        .flatten()
        .flat_map(|s| s.ports.ports().collect::<Vec<_>>())
        .collect()
}

const FULL: &str = r#"
# The README's example.
[defaults]
timeout = "500ms"
retries = 1
interval = "100ms"

[[check]]
name = "web"
target = "203.0.113.10:443"
expect = "open"
max_rtt_ms = 150

[[check]]
name = "db must not be reachable from outside"
target = "203.0.113.10"
ports = [5432, "6379"]
expect = "filtered"
timeout = "2s"

[[check]]
name = "dns"
target = "[2001:db8::53]:53"
protocol = "udp"
expect = "open"
count = 20
max_loss_pct = 5.5
responder = true
"#;

#[test]
fn a_full_file() {
    let file = ok(FULL);
    let [web, db, dns] = file.checks.as_slice() else {
        panic!("three checks: {file:?}");
    };
    assert_eq!((web.name.as_str(), web.line), ("web", 8));
    assert_eq!(ports(web), [443]);
    assert_eq!(web.expect, Expect::Open);
    assert_eq!(web.budget.max_rtt_ms, Some(150.0));
    assert_eq!(
        web.timing,
        CheckTiming {
            timeout: Duration::from_millis(500),
            retries: 1,
            count: 1,
            interval: Duration::from_millis(100),
        }
    );
    assert_eq!(db.line, 14);
    assert_eq!(ports(db), [5432, 6379]);
    assert_eq!(db.expect, Expect::Filtered);
    assert_eq!(db.timing.timeout, Duration::from_secs(2));
    assert_eq!(db.protocol, Protocol::Tcp);
    assert_eq!(
        dns.target.host,
        HostSpec::Address("2001:db8::53".parse().unwrap())
    );
    assert_eq!(dns.protocol, Protocol::Udp);
    assert_eq!(dns.expect, Expect::Open);
    assert_eq!(dns.timing.count, 20);
    assert_eq!(dns.budget.max_loss_pct, Some(5.5));
    assert!(dns.responder && !web.responder);
}

#[test]
fn defaults_and_names() {
    let file = ok("[[check]]\ntarget = \"127.0.0.1:22\"\n");
    let c = &file.checks[0];
    assert_eq!(c.name, "127.0.0.1:22");
    assert_eq!(c.expect, Expect::Open);
    assert_eq!(c.timing, CheckTiming::default());
    let file = ok(
        "[defaults]\nexpect = \"closed\"\nprotocol = \"udp\"\ncount = 3\n[[check]]\ntarget = \"127.0.0.1:1\"\n",
    );
    let c = &file.checks[0];
    assert_eq!(
        (c.expect, c.protocol, c.timing.count),
        (Expect::Closed, Protocol::Udp, 3)
    );
}

#[test]
fn a_loss_budget_without_a_count_measures_ten_attempts() {
    let file = ok("[[check]]\ntarget = \"127.0.0.1:1\"\nmax_loss_pct = 0\n");
    assert_eq!(file.checks[0].timing.count, LOSS_BUDGET_COUNT);
    let file = ok("[[check]]\ntarget = \"127.0.0.1:1\"\nmax_loss_pct = 0\ncount = 4\n");
    assert_eq!(file.checks[0].timing.count, 4);
}

#[test]
fn budgets_only_where_a_service_answers() {
    let budget = |expect: &str, key: &str| {
        format!("[[check]]\ntarget = \"127.0.0.1:1\"\nexpect = \"{expect}\"\n{key} = 5\n")
    };
    for expect in ["open", "reachable"] {
        let rtt = ok(&budget(expect, "max_rtt_ms")).checks[0].budget;
        let loss = ok(&budget(expect, "max_loss_pct")).checks[0].budget;
        assert_eq!((rtt.max_rtt_ms, loss.max_loss_pct), (Some(5.0), Some(5.0)));
    }
    let refused = [
        (
            "filtered",
            "max_rtt_ms",
            "a filtered port answers nothing: it has no RTT and always 100% loss",
        ),
        (
            "filtered",
            "max_loss_pct",
            "a filtered port answers nothing: it has no RTT and always 100% loss",
        ),
        (
            "closed",
            "max_rtt_ms",
            "a refusal comes from the host's kernel or a firewall, not from a service, so it is no service's latency or loss",
        ),
        (
            "closed",
            "max_loss_pct",
            "a refusal comes from the host's kernel or a firewall, not from a service, so it is no service's latency or loss",
        ),
        (
            "unreachable",
            "max_loss_pct",
            "it passes closed and filtered ports, which no service answers",
        ),
        (
            "open|filtered",
            "max_rtt_ms",
            "a silent port passes it with no RTT and 100% loss; write expect = \"open\" for a service that must answer",
        ),
    ];
    for (expect, key, why) in refused {
        assert_eq!(
            err(&budget(expect, key)),
            format!(
                "4:1: {key} applies only to checks expecting open or reachable, and this one expects {expect}: {why}"
            )
        );
    }
    // The expectation may come from [defaults]; the first budget key in the file is named,
    // at its own column in an inline table too.
    assert_eq!(
        err(
            "[defaults]\nexpect = \"closed\"\n[[check]]\ntarget = \"127.0.0.1:1\"\nmax_rtt_ms = 9\nmax_loss_pct = 1\n"
        ),
        "5:1: max_rtt_ms applies only to checks expecting open or reachable, and this one expects closed (from [defaults]): a refusal comes from the host's kernel or a firewall, not from a service, so it is no service's latency or loss"
    );
    assert_eq!(
        err("check = [{ target = \"127.0.0.1:1\", expect = \"filtered\", max_loss_pct = 0 }]\n"),
        "1:57: max_loss_pct applies only to checks expecting open or reachable, and this one expects filtered: a filtered port answers nothing: it has no RTT and always 100% loss"
    );
    // A check's own expect beats a default that budgets could not apply to.
    let file = ok(
        "[defaults]\nexpect = \"filtered\"\n[[check]]\ntarget = \"127.0.0.1:1\"\nexpect = \"open\"\nmax_rtt_ms = 9\n",
    );
    assert_eq!(file.checks[0].budget.max_rtt_ms, Some(9.0));
}

#[test]
fn port_forms() {
    let p = |v: &str| ports(&ok(&format!("[[check]]\ntarget = \"h\"\nports = {v}\n")).checks[0]);
    assert_eq!(p("22"), [22]);
    assert_eq!(p("\"8000-8002\""), [8000, 8001, 8002]);
    assert_eq!(p("[80, 443]"), [80, 443]);
    assert_eq!(p("[\"ssh\", 80]"), [22, 80]);
}

#[test]
fn unknown_keys_are_errors_with_their_place() {
    assert_eq!(
        err("[[check]]\nname = \"a\"\ntarget = \"127.0.0.1:1\"\ntmeout = \"1s\"\n"),
        "4:1: unknown field `tmeout`, expected one of `name`, `target`, `ports`, `protocol`, `expect`, `timeout`, `retries`, `count`, `interval`, `max_loss_pct`, `max_rtt_ms`, `responder`"
    );
    assert_eq!(
        err("[defaults]\ntimout = \"1s\"\n[[check]]\ntarget = \"127.0.0.1:1\"\n"),
        "2:1: unknown field `timout`, expected one of `timeout`, `retries`, `count`, `interval`, `protocol`, `expect`, `responder`"
    );
    assert_eq!(
        err("[[checks]]\ntarget = \"127.0.0.1:1\"\n"),
        "1:3: unknown field `checks`, expected `defaults` or `check`"
    );
}

#[test]
fn bad_values_name_the_token() {
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:99999\"\n"),
        "2:10: invalid port '99999': 99999 is out of range (0-65535)"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\nexpect = \"opn\"\n"),
        "3:10: unknown variant `opn`, expected one of `open`, `closed`, `filtered`, `open|filtered`, `reachable`, `unreachable`"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\ntimeout = 1\n"),
        "3:11: invalid type: integer `1`, expected a duration in quotes, such as \"1s\" or \"250ms\""
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\ntimeout = \"1x\"\n"),
        "3:11: invalid duration '1x': expected a duration such as 250ms, 1s or 1.5s"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1\"\nports = [1, 99999]\n"),
        "3:13: invalid port '99999': 99999 is out of range (0-65535)"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\nprotocol = \"sctp\"\n"),
        "3:12: unknown variant `sctp`, expected `tcp` or `udp`"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\nmax_loss_pct = 101\n"),
        "3:16: 101 is out of range: expected a percentage (0-100)"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\nmax_rtt_ms = -5\n"),
        "3:14: -5 is out of range: expected milliseconds above 0"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\ncount = 0\n"),
        "3:9: count must be at least 1 (a check ends; `ipdiag probe -c 0` runs until Ctrl-C)"
    );
    assert_eq!(
        err("[defaults]\ntimeout = \"0s\"\n[[check]]\ntarget = \"127.0.0.1:1\"\n"),
        "2:11: the timeout must be greater than zero"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\nretries = -1\n"),
        "3:11: invalid value: integer `-1`, expected u32"
    );
}

#[test]
fn port_zero_is_refused_at_its_place() {
    let why = "nothing listens on port 0 (binding it asks the OS for any free port), so it has no state to wait for or check";
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:0\"\n"),
        format!("2:10: invalid port '0': {why}")
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1\"\nports = [80, 0]\n"),
        format!("3:14: invalid port '0': {why}")
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1\"\nports = \"0-1023\"\n"),
        format!("3:9: invalid port '0-1023': {why}")
    );
}

#[test]
fn checks_that_could_never_run() {
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1\"\n"),
        "2:10: no port for '127.0.0.1': write HOST:PORT or add `ports = [...]`"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:22\"\nports = [80]\n"),
        "3:9: the target '127.0.0.1:22' already has a port: remove `ports` or the target's :PORT"
    );
    assert_eq!(
        err(
            "[[check]]\nname = \"a\"\ntarget = \"127.0.0.1:1\"\n[[check]]\nname = \"a\"\ntarget = \"127.0.0.1:2\"\n"
        ),
        "5:8: duplicate check name 'a' (first at line 1): names must be unique"
    );
    assert_eq!(
        err("[[check]]\nname = \" \"\ntarget = \"127.0.0.1:1\"\n"),
        "2:8: the check's name is empty"
    );
    assert_eq!(
        err("# nothing\n[defaults]\ntimeout = \"1s\"\n"),
        "1:1: no [[check]] tables: nothing to check (see `ipdiag check --help`)"
    );
    assert_eq!(
        err("[[check]]\nexpect = \"open\"\n"),
        "1:1: missing field `target`"
    );
    assert_eq!(
        err("[[check]]\nname = \"all\"\ntarget = \"255.255.255.255:9\"\n"),
        "3:10: invalid target '255.255.255.255:9': a broadcast address reaches many hosts: refused (probe --allow-broadcast does it anyway)"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"10.0.0.0/8:80\"\n"),
        "2:10: invalid target '10.0.0.0/8:80': 16777216 addresses is more than one run probes (at most 65536)"
    );
    // A name is not looked up while the file is read: it is checked when probed.
    assert_eq!(
        ok("[[check]]\ntarget = \"db.invalid:5432\"\n").checks[0].name,
        "db.invalid:5432"
    );
}

#[test]
fn a_duplicate_key_is_named_with_its_table() {
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\"\nexpect = \"open\"\ntarget = \"127.0.0.1:2\"\n"),
        "4:1: duplicate key `target` in the [[check]] of line 1: each key is written once per table"
    );
    assert_eq!(
        err("[defaults]\nretries = 1\nretries = 2\n[[check]]\ntarget = \"127.0.0.1:1\"\n"),
        "3:1: duplicate key `retries` in [defaults]: each key is written once per table"
    );
    assert_eq!(
        err("[defaults]\n[[check]]\ntarget = \"127.0.0.1:1\"\n[defaults]\n"),
        "4:2: duplicate table [defaults]: a table is written once (each check has its own [[check]])"
    );
}

#[test]
fn toml_syntax_errors_are_located() {
    assert_eq!(
        err("[[check]\ntarget = 1\n"),
        "1:9: unclosed array table, expected `]`"
    );
    assert_eq!(
        err("[[check]]\ntarget = \"127.0.0.1:1\nexpect = \"open\"\n"),
        "2:22: invalid basic string, expected `\"`"
    );
}

#[test]
fn read_table_by_table_in_one_pass() {
    let mut text = String::from("[defaults]\ntimeout = \"2s\"\n");
    for i in 0..10_000 {
        let port = i + 1;
        text += &["\n[[check]]\nname = \"c", &i.to_string(), "\"\n"].concat();
        text += &["target = \"127.0.0.1:", &port.to_string(), "\"\n"].concat();
    }
    let split = split::split(&text).unwrap();
    assert_eq!((split.checks.len(), split.rest.len()), (10_000, 1));
    let file = by_table(&text, &split).unwrap().unwrap();
    assert_eq!(file, whole(&text).unwrap());
    assert_eq!(file.checks.len(), 10_000);
    let last = &file.checks[9_999];
    assert_eq!((last.name.as_str(), last.line), ("c9999", 4 + 9_999 * 4));
    assert_eq!(last.timing.timeout, Duration::from_secs(2));
    // Each line is counted once over the whole file (counting from the start for each
    // check made 80,000 checks take 11 s).
    let mut lines = LineCounter::new(&text);
    let starts: Vec<usize> = split.checks.iter().map(|r| r.start).collect();
    for &start in &starts {
        lines.line_of(start);
    }
    assert_eq!(lines.scanned, starts[9_999]);
    // The last check's error is found with its place in the file.
    text.push_str("\n[[check]]\ntarget = \"127.0.0.1\"\n");
    assert_eq!(
        err(&text),
        "40005:10: no port for '127.0.0.1': write HOST:PORT or add `ports = [...]`"
    );
}

#[test]
fn a_problem_outside_the_checks_reads_the_file_whole() {
    // A zero timeout in [defaults] after the checks: the whole-file reader's message.
    let text = "[[check]]\ntarget = \"127.0.0.1:1\"\n[defaults]\ntimeout = \"0s\"\n";
    assert_eq!(by_table(text, &split::split(text).unwrap()), None);
    assert_eq!(err(text), "4:11: the timeout must be greater than zero");
    // `check = [...]` and `[[check]]` in one file: the TOML reader's own message.
    let text = "check = [{ target = \"127.0.0.1:1\" }]\n[[check]]\ntarget = \"127.0.0.1:2\"\n";
    assert_eq!(by_table(text, &split::split(text).unwrap()), None);
    assert!(err(text).starts_with("2:"), "{}", err(text));
}
