//! "What is this address / port?" — pure classification over the embedded registries.
//!
//! Nothing here does I/O or prints: inputs are parsed tokens and OS facts passed in, outputs
//! are plain data for `output/` to render and `diagnose/` to reason about.

pub mod address;
pub mod cloud;
pub mod datasets;
pub mod explain;
pub mod input;
pub mod ipv4;
pub mod ipv4_parse;
pub mod ipv6;
pub mod port;
pub mod port_spec;
pub mod record;
pub mod services;
pub mod special;
pub mod subnet;
pub mod tables;

pub use address::{AddrInfo, Embedded, classify};
pub use input::{Item, parse_item};
pub use port::{Band, PortFacts, PortInfo, classify_port};
pub use record::{Classified, Subnet};
pub use subnet::{ClassfulView, Subnet4, Subnet6, subnet_v4, subnet_v6};
