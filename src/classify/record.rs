//! One classified input: the token as given, its address facts and, for a CIDR, the subnet.

use super::address::{AddrInfo, classify};
use super::subnet::{Subnet4, Subnet6, subnet_v4, subnet_v6};
use ipnet::IpNet;
use std::borrow::Cow;
use std::net::IpAddr;

/// The subnet facts of a CIDR input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subnet {
    /// An IPv4 network.
    V4(Subnet4),
    /// An IPv6 network.
    V6(Subnet6),
}

/// The input token of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The token as the user gave it (a host name for each of its addresses).
    Text(&'a str),
    /// The token was exactly the address's canonical text. The bulk path uses this for
    /// dotted quads, whose strict parser accepts nothing but the canonical form, so it need
    /// not re-validate the bytes as UTF-8 to carry them along.
    Canonical,
}

/// What `ipdiag classify` reports for one address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Classified<'a> {
    /// The input token.
    pub input: Input<'a>,
    /// The address facts.
    pub info: AddrInfo,
    /// The subnet facts, for a CIDR input.
    pub subnet: Option<Subnet>,
}

impl<'a> Classified<'a> {
    /// A plain address (or one address of a host name).
    pub fn address(input: &'a str, address: IpAddr) -> Self {
        Self {
            input: Input::Text(input),
            info: classify(address),
            subnet: None,
        }
    }

    /// An address whose input token was its canonical text.
    pub fn canonical(address: IpAddr) -> Self {
        Self {
            input: Input::Canonical,
            info: classify(address),
            subnet: None,
        }
    }

    /// The input token as text.
    pub fn input_text(&self) -> Cow<'a, str> {
        match self.input {
            Input::Text(text) => Cow::Borrowed(text),
            Input::Canonical => Cow::Owned(self.info.address.to_string()),
        }
    }

    /// A CIDR input: the address as written, plus its network.
    pub fn network(input: &'a str, net: IpNet) -> Self {
        let subnet = match net {
            IpNet::V4(n) => Subnet::V4(subnet_v4(n)),
            IpNet::V6(n) => Subnet::V6(subnet_v6(n)),
        };
        Self {
            input: Input::Text(input),
            info: classify(net.addr()),
            subnet: Some(subnet),
        }
    }
}
