//! `doctor --on-server CMD`: the command that reaches ipdiag on the server, split into
//! words as a POSIX shell would (quotes and backslashes; no variables, globs or pipes: it
//! runs without a shell), the watch arguments appended, and what its failures mean. Pure:
//! `app/on_server.rs` runs it.

use crate::error::{InputError, Problem};
use std::time::Duration;

/// Where to get ipdiag, for the one-line errors about a server without it.
pub const INSTALL_STEP: &str = "install it there (a release archive's binary, or `cargo install --path .` from the source) and give --on-server its path, e.g. \"ssh user@vm /usr/local/bin/ipdiag\"";

/// The command, split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCommand {
    /// The words as given (`ssh`, `user@vm`, `ipdiag`).
    pub words: Vec<String>,
}

impl ServerCommand {
    /// Splits `text` as a shell would: `ssh -i 'my key' vm ipdiag` is four words.
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let words = shlex::split(text)
            .ok_or_else(|| InputError::new("--on-server command", text, Problem::ShellQuoting))?;
        if words.is_empty() {
            return Err(InputError::new("--on-server command", text, Problem::Empty));
        }
        Ok(Self { words })
    }

    /// The program and every argument: the command's words, then
    /// `local --port P [--udp] --watch Ns --format json`.
    pub fn argv(&self, port: u16, udp: bool, watch: Duration) -> Vec<String> {
        let mut argv = self.words.clone();
        argv.extend(["local", "--port"].map(String::from));
        argv.push(port.to_string());
        if udp {
            argv.push("--udp".into());
        }
        argv.push("--watch".into());
        argv.push(format!("{}s", watch.as_secs().max(1)));
        argv.extend(["--format", "json"].map(String::from));
        argv
    }

    /// The program's name, for messages.
    pub fn program(&self) -> &str {
        &self.words[0]
    }

    /// `ssh`: its own failures exit 255.
    fn is_ssh(&self) -> bool {
        self.program().rsplit('/').next() == Some("ssh")
    }
}

/// The one line that says why the server's side failed: `code` is the command's exit
/// status (`None`: killed by a signal), `stderr` its last lines.
pub fn failure(command: &ServerCommand, code: Option<i32>, stderr: &[String]) -> String {
    let last = stderr
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let said = if last.is_empty() {
        "it printed nothing".to_owned()
    } else {
        format!("it said: {last}")
    };
    let any = |needles: &[&str]| stderr.iter().any(|l| needles.iter().any(|n| l.contains(n)));
    if code == Some(127)
        || code == Some(126)
        || any(&[
            "command not found",
            "executable file not found",
            "No such file or directory",
            "not found in $PATH",
        ])
    {
        return format!("ipdiag is not installed on the server ({said}): {INSTALL_STEP}");
    }
    if code == Some(2)
        && any(&[
            "unrecognized subcommand",
            "unexpected argument",
            "required arguments were not provided",
            "invalid value",
        ])
    {
        return format!(
            "the server's ipdiag is older than this one: it does not know `local --port P --watch D --format json` ({said}); upgrade it: {INSTALL_STEP}"
        );
    }
    if command.is_ssh() && code == Some(255) {
        return format!(
            "ssh failed: {}",
            if last.is_empty() { "no message" } else { last }
        );
    }
    match code {
        Some(code) => format!(
            "`{}` failed (exit status {code}): {}",
            command.words.join(" "),
            if last.is_empty() { "no message" } else { last }
        ),
        None => format!("`{}` was killed by a signal", command.words.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> ServerCommand {
        ServerCommand::parse(text).unwrap()
    }

    #[test]
    fn splits_as_a_shell_does() {
        assert_eq!(
            cmd("ssh -i 'my key' -o \"User=ro ot\" vm\\ 1 ipdiag").words,
            ["ssh", "-i", "my key", "-o", "User=ro ot", "vm 1", "ipdiag"]
        );
        assert_eq!(
            cmd("kubectl exec pod -- ipdiag").words,
            ["kubectl", "exec", "pod", "--", "ipdiag"]
        );
        let e = ServerCommand::parse("ssh 'vm").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --on-server command 'ssh 'vm': unbalanced quotes or a trailing backslash"
        );
        assert!(ServerCommand::parse("  ").is_err());
    }

    #[test]
    fn appends_the_watch() {
        let argv = cmd("ip netns exec vm ipdiag").argv(8000, true, Duration::from_secs(7));
        assert_eq!(
            argv.join(" "),
            "ip netns exec vm ipdiag local --port 8000 --udp --watch 7s --format json"
        );
        let argv = cmd("ssh vm ipdiag").argv(22, false, Duration::from_millis(300));
        assert_eq!(
            argv[3..].join(" "),
            "local --port 22 --watch 1s --format json"
        );
    }

    #[test]
    fn failures_say_what_to_do() {
        let lines = |l: &[&str]| l.iter().map(ToString::to_string).collect::<Vec<_>>();
        let ssh = cmd("ssh vm ipdiag");
        let missing = failure(
            &ssh,
            Some(127),
            &lines(&["bash: line 1: ipdiag: command not found"]),
        );
        assert!(missing.starts_with("ipdiag is not installed on the server (it said: bash: line 1: ipdiag: command not found): install it there"), "{missing}");
        let old = failure(
            &ssh,
            Some(2),
            &lines(&["ipdiag: error: unexpected argument '--format' found"]),
        );
        assert!(
            old.starts_with("the server's ipdiag is older than this one"),
            "{old}"
        );
        let down = failure(
            &ssh,
            Some(255),
            &lines(&[
                "",
                "ssh: connect to host vm port 22: Connection refused",
                "",
            ]),
        );
        assert_eq!(
            down,
            "ssh failed: ssh: connect to host vm port 22: Connection refused"
        );
        let docker = failure(
            &cmd("docker exec web ipdiag"),
            Some(126),
            &lines(&[
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"ipdiag\": executable file not found in $PATH: unknown",
            ]),
        );
        assert!(
            docker.starts_with("ipdiag is not installed on the server"),
            "{docker}"
        );
        let other = failure(
            &cmd("sudo ipdiag"),
            Some(1),
            &lines(&["sudo: a password is required"]),
        );
        assert_eq!(
            other,
            "`sudo ipdiag` failed (exit status 1): sudo: a password is required"
        );
    }
}
