//! `-v` and `-q` on every command: `-v` says what ran and ends with the same summary line;
//! `-q` leaves stderr empty on a run that succeeds; stdout keeps its data, except for
//! `check` and `wait`, whose exit status is the answer (as `--help` and README say).

use super::run;
use std::io::Write as _;
use std::net::TcpListener;

/// Every command, with arguments that succeed on loopback, and whether `-v` first says what
/// it is about to do (commands that touch the network or the host do; pure ones need not).
fn every_command(port: u16, check_file: &str) -> Vec<(&'static str, Vec<String>, bool)> {
    let target = format!("127.0.0.1:{port}");
    let mut all = vec![
        ("classify", vec!["192.168.1.103".to_owned()], false),
        ("port", vec!["80".to_owned()], false),
        ("probe", vec![target.clone(), "--connect".to_owned()], true),
        ("doctor", vec![target.clone()], true),
        ("trace", vec![target.clone()], true),
        ("local", vec![], true),
        ("check", vec![check_file.to_owned()], true),
        (
            "wait",
            vec![target, "--timeout".to_owned(), "5s".to_owned()],
            true,
        ),
        (
            "serve",
            ["--udp", "0", "--bind", "127.0.0.1", "--for", "100ms"]
                .map(str::to_owned)
                .to_vec(),
            true,
        ),
        ("data", vec![], false),
        ("completions", vec!["bash".to_owned()], false),
        ("man", vec![], false),
    ];
    // trace and local are Linux's for now (elsewhere.rs checks their refusal).
    if !cfg!(target_os = "linux") {
        all.retain(|(command, ..)| !matches!(*command, "trace" | "local"));
    }
    // ICMP echo needs root (or a ping socket this host may not grant).
    if super::is_root() {
        all.push((
            "ping",
            ["127.0.0.1", "-c", "1"].map(str::to_owned).to_vec(),
            true,
        ));
    }
    all
}

#[test]
fn verbose_says_what_ran_and_quiet_says_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("ipdiag-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("up.toml");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(
        f,
        "[[check]]\nname = \"up\"\ntarget = \"127.0.0.1:{port}\"\nexpect = \"open\""
    )
    .unwrap();
    let file = file.to_string_lossy().into_owned();

    for (command, args, says_what_runs) in every_command(port, &file) {
        let with = |flag: &str| {
            let mut all = vec![flag, command];
            all.extend(args.iter().map(String::as_str));
            run(&all)
        };
        let (code, _, stderr) = with("-v");
        assert_eq!(code, 0, "{command} -v: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("ipdiag: {command} finished in "))
                && last.ends_with(" s, exit status 0"),
            "{command} -v: {stderr}"
        );
        if says_what_runs {
            assert!(stderr.lines().count() >= 2, "{command} -v: {stderr}");
        }

        let (code, stdout, stderr) = with("-q");
        assert_eq!((code, stderr.as_str()), (0, ""), "{command} -q");
        let silent = matches!(command, "check" | "wait");
        assert_eq!(stdout.is_empty(), silent, "{command} -q: {stdout}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
