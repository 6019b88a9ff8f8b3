//! Values of a check file that are checked as they are read, so that the TOML reader puts
//! the file, line and column of the value in front of the message.

use crate::classify::port_spec::{PortSelection, parse_port_arg, refuse_port_zero};
use crate::model::Protocol;
use crate::plan::duration::parse_duration;
use crate::plan::target::{TargetSpec, parse_target};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::time::Duration;

/// `timeout = "1s"`, `interval = "250ms"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationField(pub Duration);

impl<'de> Deserialize<'de> for DurationField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration in quotes, such as \"1s\" or \"250ms\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                parse_duration("duration", text)
                    .map(DurationField)
                    .map_err(|e| E::custom(e))
            }
        }
        d.deserialize_str(V)
    }
}

/// `target = "db.internal:5432"`, `target = "203.0.113.10"` (with `ports`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetField(pub TargetSpec);

impl<'de> Deserialize<'de> for TargetField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TargetField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a target in quotes: \"HOST:PORT\", \"[IPV6]:PORT\" or \"HOST\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                let target = parse_target(text).map_err(E::custom)?;
                refuse_port_zero(target.ports.as_deref().unwrap_or_default()).map_err(E::custom)?;
                Ok(TargetField(target))
            }
        }
        d.deserialize_str(V)
    }
}

/// `ports = 5432`, `ports = [80, 443]`, `ports = "8000-8100"`, `ports = ["ssh", "53/udp"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortsField(pub Vec<PortSelection>);

impl<'de> Deserialize<'de> for PortsField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PortsField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port (22), a list ([80, 443]) or a port spec (\"8000-8100\")")
            }
            fn visit_i64<E: de::Error>(self, port: i64) -> Result<Self::Value, E> {
                ports(&port.to_string())
            }
            fn visit_u64<E: de::Error>(self, port: u64) -> Result<Self::Value, E> {
                ports(&port.to_string())
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                ports(text)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut all = Vec::new();
                while let Some(PortsField(part)) = seq.next_element::<PortsField>()? {
                    all.extend(part);
                }
                if all.is_empty() {
                    return Err(de::Error::custom("the list of ports is empty"));
                }
                Ok(PortsField(all))
            }
        }
        d.deserialize_any(V)
    }
}

fn ports<E: de::Error>(text: &str) -> Result<PortsField, E> {
    let ports = parse_port_arg(text).map_err(E::custom)?;
    refuse_port_zero(&ports).map_err(E::custom)?;
    Ok(PortsField(ports))
}

/// `protocol = "tcp"` or `"udp"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolField {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl From<ProtocolField> for Protocol {
    fn from(p: ProtocolField) -> Self {
        match p {
            ProtocolField::Tcp => Protocol::Tcp,
            ProtocolField::Udp => Protocol::Udp,
        }
    }
}

/// A number written as an integer (`5`) or a float (`2.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberField(pub f64);

impl<'de> Deserialize<'de> for NumberField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumberField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            #[expect(clippy::cast_precision_loss, reason = "budgets are small numbers")]
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(NumberField(n as f64))
            }
            #[expect(clippy::cast_precision_loss, reason = "budgets are small numbers")]
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(NumberField(n as f64))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Ok(NumberField(n))
            }
        }
        d.deserialize_any(V)
    }
}
