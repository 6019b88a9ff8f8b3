//! `local --port P --watch D`: what happened to the packets for one port while watched —
//! arrivals per source at the network card, the firewall rule that counted them, the
//! socket that received them, its accept queue — and the record that carries it
//! (`report`, the JSON contract `doctor --on-server` reads).

pub mod capture;
pub mod judge;
pub mod packets;
pub mod report;
