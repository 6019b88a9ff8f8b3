//! Which process holds a port (for "address in use" explanations).

use super::sockets::{listening, owners};
use crate::model::{Protocol, Transport};

/// The (pid, name) of a process bound to `port` for `protocol`, if this user may see it.
pub fn holder(protocol: Protocol, port: u16) -> Option<(u32, String)> {
    let transport = match protocol {
        Protocol::Tcp => Transport::Tcp,
        Protocol::Udp => Transport::Udp,
    };
    let inode = listening()
        .into_iter()
        .find(|s| s.protocol == transport && s.local.port() == port)?
        .inode;
    owners().remove(&inode)
}
