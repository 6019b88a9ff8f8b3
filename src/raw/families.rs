//! The raw sockets of one scan thread, per address family (opened only for the families
//! its targets need), with this machine's source address for each target address.

use super::sockets::RawSockets;
use crate::probe::route::source_for;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The sockets per family, opened only for the families the scan needs.
pub struct Families {
    v4: Option<RawSockets>,
    v6: Option<RawSockets>,
    /// This machine's source address per target address (a route lookup each).
    pub sources: HashMap<IpAddr, Option<IpAddr>>,
}

impl Families {
    /// Opens the sockets the families of `targets` need, each reserving `tries` source
    /// ports, and looks up the source address for each target address.
    pub fn open(targets: impl Iterator<Item = SocketAddr>, tries: usize) -> io::Result<Self> {
        let mut sources = HashMap::new();
        for t in targets {
            sources.entry(t.ip()).or_insert_with(|| source_for(t.ip()));
        }
        let needs = |v6: bool| sources.keys().any(|a| a.is_ipv6() == v6);
        Ok(Self {
            v4: needs(false)
                .then(|| RawSockets::open(false, tries))
                .transpose()?,
            v6: needs(true)
                .then(|| RawSockets::open(true, tries))
                .transpose()?,
            sources,
        })
    }

    /// The sockets for `target`'s family.
    pub fn of(&self, target: SocketAddr) -> Option<&RawSockets> {
        if target.is_ipv6() {
            self.v6.as_ref()
        } else {
            self.v4.as_ref()
        }
    }

    /// Every receiving socket, with whether it is the TCP one.
    pub fn receivers(&self) -> impl Iterator<Item = (&RawSockets, bool)> {
        [&self.v4, &self.v6]
            .into_iter()
            .flatten()
            .flat_map(|s| [(s, true), (s, false)])
    }

    /// Sleeps until a packet waits on any socket, or `timeout`.
    pub fn wait(&self, timeout: Duration) -> io::Result<()> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds: Vec<PollFd<'_>> = self
            .receivers()
            .map(|(s, tcp)| {
                let socket = if tcp { &s.tcp } else { &s.icmp };
                PollFd::new(socket.as_fd(), PollFlags::POLLIN)
            })
            .collect();
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
