//! What to send to a UDP port: a protocol-correct request for services that ignore
//! anything else (DNS, NTP, SNMP — `data/udp-payloads.tsv`, like nmap's `nmap-payloads`),
//! ipdiag's own probe datagram for every other port, or what the user gave (`--payload`).

use super::responder;
use crate::classify::tables::UDP_PAYLOADS;
use crate::error::{InputError, Problem};

/// The payload choice for a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PayloadChoice {
    /// A service payload for known ports, ipdiag's datagram otherwise.
    #[default]
    Auto,
    /// These bytes for every port (`--payload`); empty sends an empty datagram, as nmap does.
    Custom(Vec<u8>),
}

/// The bytes for one attempt, and the name of what they are (`dns`, `ipdiag`, `custom`, ...).
pub fn payload_for(
    choice: &PayloadChoice,
    port: u16,
    nonce: u64,
    token: Option<&[u8]>,
) -> (&'static str, Vec<u8>) {
    match choice {
        PayloadChoice::Custom(bytes) if bytes.is_empty() => ("empty", Vec::new()),
        PayloadChoice::Custom(bytes) => ("custom", bytes.clone()),
        PayloadChoice::Auto => match UDP_PAYLOADS.iter().find(|(p, _, _)| *p == port) {
            Some((_, name, bytes)) => (name, bytes.to_vec()),
            None => ("ipdiag", responder::request(nonce, token)),
        },
    }
}

/// Reads `--payload`: `0x` followed by hex digits, or text taken as its UTF-8 bytes; `''`
/// is an empty datagram.
pub fn parse_payload(text: &str) -> Result<PayloadChoice, InputError> {
    let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) else {
        return Ok(PayloadChoice::Custom(text.as_bytes().to_vec()));
    };
    let err = |p| InputError::new("payload", text, p);
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(err(Problem::Character(c)));
    }
    if hex.len() % 2 != 0 {
        return Err(err(Problem::OddHex));
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| err(Problem::OddHex))?;
    Ok(PayloadChoice::Custom(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_payloads_by_port() {
        let (name, dns) = payload_for(&PayloadChoice::Auto, 53, 1, None);
        assert_eq!((name, dns.len()), ("dns", 17));
        assert_eq!(&dns[4..6], &[0, 1], "one question");
        let (name, ntp) = payload_for(&PayloadChoice::Auto, 123, 1, None);
        assert_eq!((name, ntp.len(), ntp[0]), ("ntp", 48, 0xe3));
        let (name, snmp) = payload_for(&PayloadChoice::Auto, 161, 1, None);
        assert_eq!((name, snmp.len()), ("snmp", 43));
        assert_eq!(
            usize::from(snmp[1]) + 2,
            snmp.len(),
            "BER length covers the message"
        );
        assert_eq!(&snmp[7..13], b"public");
        let (name, own) = payload_for(&PayloadChoice::Auto, 7890, 42, None);
        assert_eq!(name, "ipdiag");
        assert_eq!(
            super::super::datagram::parse(&own).map(|h| h.nonce),
            Some(42)
        );
        assert_eq!(own.len(), responder::REQUEST_LEN);
    }

    #[test]
    fn user_payloads() {
        assert_eq!(
            parse_payload("").unwrap(),
            PayloadChoice::Custom(Vec::new())
        );
        assert_eq!(
            payload_for(&parse_payload("").unwrap(), 53, 0, None),
            ("empty", Vec::new())
        );
        assert_eq!(
            parse_payload("hi").unwrap(),
            PayloadChoice::Custom(b"hi".to_vec())
        );
        assert_eq!(
            parse_payload("0xdeadBEEF").unwrap(),
            PayloadChoice::Custom(vec![0xde, 0xad, 0xbe, 0xef])
        );
        assert_eq!(
            parse_payload("0xabc").unwrap_err().to_string(),
            "invalid payload '0xabc': hex needs two digits per byte"
        );
        assert_eq!(
            parse_payload("0xzz").unwrap_err().to_string(),
            "invalid payload '0xzz': unexpected character 'z'"
        );
    }
}
