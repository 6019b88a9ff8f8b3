//! Bytes on the wire that ipdiag defines or sends: its own probe datagram (shared by
//! `probe` and, later, the responder) and the protocol payloads for common UDP services.
//! Pure encoding and parsing; never panics on any input (fuzzed and proptested).

pub mod datagram;
pub mod payloads;
pub mod responder;
