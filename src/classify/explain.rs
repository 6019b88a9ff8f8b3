//! One-sentence explanations of what an address's scope means for reaching a server.
//!
//! This is where the tutorial's three rules live as text: a server binds the private IP or
//! `0.0.0.0` (never the NAT'd public IP), a client dials the public IP (never the private
//! one), and loopback is this machine only. Pure text, no formatting: every output that
//! wants a note asks here.

use super::address::AddrInfo;
use crate::model::Scope;

/// What this address means for someone trying to reach a server at it.
pub fn scope_note(info: &AddrInfo) -> &'static str {
    match info.scope {
        Scope::Public if info.cloud.is_some() => {
            "Routable on the Internet. On a cloud VM the public IP is NAT'd to the VM's private \
             IP and is not on its network card: the server binds 0.0.0.0 or the private IP, \
             never this address; clients dial this one."
        }
        Scope::Public => {
            "Routable on the Internet: clients anywhere can dial it, if firewalls allow."
        }
        Scope::Private => {
            "Private (RFC 1918 / unique-local): reachable only inside its own network. A cloud \
             VM's private IP looks like this: the server may bind it, but clients outside must \
             dial the VM's public IP."
        }
        Scope::Shared => {
            "Carrier-grade NAT space (RFC 6598): the ISP shares one public address among many \
             customers, so nobody on the Internet can dial this address."
        }
        Scope::Loopback => {
            "This machine only: a server bound here cannot be reached from any other host. \
             Bind 0.0.0.0 (all interfaces) or the private IP to accept remote clients."
        }
        Scope::LinkLocal => {
            "Valid on one link only; routers never forward it. Self-assigned when DHCP fails; \
             169.254.169.254 is the cloud metadata service."
        }
        Scope::Multicast => {
            "A group address, not a host: UDP only, delivered to every member that joined the \
             group; TCP cannot connect to it."
        }
        Scope::Broadcast => {
            "Limited broadcast: every host on the local link, never forwarded by routers; \
             UDP only, with SO_BROADCAST."
        }
        Scope::Documentation => {
            "Reserved for documentation and examples: no real host has this address. Copied \
             from a tutorial? Use your server's own address."
        }
        Scope::Benchmarking => {
            "Reserved for network benchmark tests (RFC 2544): not a real Internet host."
        }
        Scope::Reserved => "Reserved or special-purpose: not an ordinary host address.",
        Scope::Unspecified => {
            "\"No address\": as a server's bind address it means all interfaces (how to accept \
             clients from anywhere); as a destination it is invalid."
        }
        Scope::ThisNetwork => {
            "\"This network\": valid only as a source address while a host starts up, never as a destination."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::address::classify;

    #[test]
    fn the_tutorial_rules_are_in_the_notes() {
        let loopback = classify("127.0.0.1".parse().unwrap());
        assert!(scope_note(&loopback).contains("Bind 0.0.0.0"));
        let private = classify("192.168.1.103".parse().unwrap());
        assert!(scope_note(&private).contains("dial the VM's public IP"));
        let unspecified = classify("0.0.0.0".parse().unwrap());
        assert!(scope_note(&unspecified).contains("all interfaces"));
    }
}
