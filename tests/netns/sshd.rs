//! A real OpenSSH server inside a test's namespace, for the `doctor --on-server "ssh …"`
//! transport: a throwaway host key and client key pair and a config in a temporary
//! directory, `sshd -D` started in the namespace and killed by PID when dropped.

use crate::bed::{output, run};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An sshd of the test's own, listening on `address:22` inside `ns`.
pub struct Sshd {
    child: Child,
    dir: PathBuf,
}

impl Sshd {
    /// Starts sshd in `ns` on `address` and waits (bounded) until it listens.
    pub fn start(ns: &str, address: &str) -> Sshd {
        let dir = std::env::temp_dir().join(format!("ipdiag-sshd-{}-{}", std::process::id(), ns));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        for key in ["host_key", "client_key"] {
            run(&[
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                &path(key),
            ]);
        }
        std::fs::copy(path("client_key.pub"), path("authorized_keys")).expect("copy the key");
        let config = format!(
            "ListenAddress {address}:22\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nLogLevel ERROR\n",
            path("host_key"),
            path("authorized_keys"),
            path("sshd.pid"),
        );
        std::fs::write(path("sshd_config"), config).expect("write the config");
        // Debian's sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f"])
            .arg(path("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd starts");
        let sshd = Sshd { child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let listening = output(&["ip", "netns", "exec", ns, "ss", "-ltnH", "sport = :22"]);
            if String::from_utf8_lossy(&listening.stdout).contains(address) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on {address}:22"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sshd
    }

    /// The `--on-server` command that runs `remote` as root on the server through ssh.
    pub fn command(&self, host: &str, remote: &str) -> String {
        format!(
            "ssh -i {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR root@{host} {remote}",
            self.dir.join("client_key").display()
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
