//! Running a command on a pseudo-terminal of a given width, through util-linux `script`
//! (shared by the CLI and namespace tests: progress lines are drawn only on a terminal).

/// What `command` (a shell command line) wrote to a `columns`-wide terminal, or `None`
/// (with the reason printed) when `script` is not installed.
pub fn on_terminal(columns: u16, command: &str) -> Option<String> {
    let line = format!("stty cols {columns} rows 20; exec {command}");
    let Ok(out) = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .output()
    else {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return None;
    };
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
