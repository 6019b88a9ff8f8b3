//! The kernel filter of a raw TCP socket (classic BPF, built here as plain data): keep only
//! the segments to our source ports, so the kernel drops other programs' traffic, and on
//! loopback our own SYNs, before they fill the receive buffer.
//!
//! Where the program starts reading differs by family; checked on this kernel (6.18) by
//! attaching `ldh [2]; jeq PORT` to each kind of socket and connecting to PORT:
//! - an IPv4 raw socket's filter sees the whole packet from the IPv4 header, whose length
//!   varies (options), so the port is read at IHL·4 + 2;
//! - an IPv6 raw socket's filter sees the packet from the TCP header: IPv6 input has
//!   pulled the fixed header and any extension headers before raw delivery (as `recvfrom`
//!   on such a socket returns no IPv6 header either), so the port is at offset 2. The SYN
//!   to PORT passed that filter and the RST from PORT did not.

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode (`linux/bpf_common.h`).
    pub code: u16,
    /// Jump offset when the comparison holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

// Opcodes from linux/bpf_common.h.
/// `ldx 4*([k]&0xf)`: `BPF_LDX | BPF_B | BPF_MSH` (X = IPv4 header length).
const LDX_B_MSH: u16 = 0x01 | 0x10 | 0xa0;
/// `ldh [x + k]`: `BPF_LD | BPF_H | BPF_IND`.
const LD_H_IND: u16 = 0x08 | 0x40;
/// `ldh [k]`: `BPF_LD | BPF_H | BPF_ABS`.
const LD_H_ABS: u16 = 0x08 | 0x20;
/// `jeq #k`: `BPF_JMP | BPF_JEQ | BPF_K`.
const JEQ_K: u16 = 0x05 | 0x10;
/// `ret #k`: `BPF_RET | BPF_K` (0 drops, anything else keeps that many bytes).
const RET_K: u16 = 0x06;

/// The most ports one program compares (one jump each; a jump offset is a byte).
pub const MAX_PORTS: usize = 16;

/// A program that keeps TCP segments whose destination port is one of `ports` (the first
/// [`MAX_PORTS`]), for an IPv6 (`v6`) or IPv4 raw socket.
pub fn to_ports(ports: &[u16], v6: bool) -> Vec<Insn> {
    let insn = |code, jt, jf, k| Insn { code, jt, jf, k };
    let ports = &ports[..ports.len().min(MAX_PORTS)];
    let n = ports.len();
    // A = the TCP destination port: 2 bytes into the TCP header, which starts at the
    // IPv4 header's length (X) or, for IPv6, at the start of what the filter sees.
    let mut program = if v6 {
        vec![insn(LD_H_ABS, 0, 0, 2)]
    } else {
        vec![insn(LDX_B_MSH, 0, 0, 0), insn(LD_H_IND, 0, 0, 2)]
    };
    // One comparison per port, each jumping over the rest and the drop to the accept.
    for (i, port) in ports.iter().enumerate() {
        let to_accept = u8::try_from(n - i).unwrap_or(u8::MAX);
        program.push(insn(JEQ_K, to_accept, 0, u32::from(*port)));
    }
    program.push(insn(RET_K, 0, 0, 0));
    program.push(insn(RET_K, 0, 0, u32::MAX));
    program
}

/// The program in socket2's form, for `attach_filter`.
pub fn sock_filters(program: &[Insn]) -> Vec<socket2::SockFilter> {
    program
        .iter()
        .map(|i| socket2::SockFilter::new(i.code, i.jt, i.jf, i.k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic BPF interpreter for the instructions above, as the kernel runs them: a
    /// load past the end of the packet ends the program with 0 (drop).
    fn run(program: &[Insn], packet: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let half = |at: usize| {
            Some(u32::from(u16::from_be_bytes([
                *packet.get(at)?,
                *packet.get(at + 1)?,
            ])))
        };
        loop {
            let i = program[pc];
            pc += 1;
            match i.code {
                LDX_B_MSH => match packet.get(i.k as usize) {
                    Some(b) => x = 4 * u32::from(b & 0x0f),
                    None => return 0,
                },
                LD_H_IND => match half((x + i.k) as usize) {
                    Some(v) => a = v,
                    None => return 0,
                },
                LD_H_ABS => match half(i.k as usize) {
                    Some(v) => a = v,
                    None => return 0,
                },
                JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                RET_K => return i.k,
                other => panic!("opcode {other:#x} is not interpreted here"),
            }
        }
    }

    /// A TCP header's first 4 bytes: source and destination port.
    fn tcp(src: u16, dst: u16) -> Vec<u8> {
        let mut t = src.to_be_bytes().to_vec();
        t.extend_from_slice(&dst.to_be_bytes());
        t.extend_from_slice(&[0; 16]);
        t
    }

    /// An IPv4 packet with `options` words of IP options around `segment`.
    fn ipv4(options: u8, segment: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45 + options, 0, 0, 0, 0, 0, 0, 0, 64, 6];
        p.resize(20 + 4 * usize::from(options), 0);
        p.extend_from_slice(segment);
        p
    }

    /// An instruction's fields, to compare programs with `sock_filter` listings.
    fn fields(program: &[Insn]) -> Vec<(u16, u8, u8, u32)> {
        program.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
    }

    const OURS: [u16; 2] = [40000, 40001];
    const KEEP: u32 = u32::MAX;

    #[test]
    fn the_ipv6_program_reads_the_port_at_the_start_of_the_tcp_header() {
        assert_eq!(
            fields(&to_ports(&OURS, true)),
            [
                (0x28, 0, 0, 2),
                (0x15, 2, 0, 40000),
                (0x15, 1, 0, 40001),
                (0x06, 0, 0, 0),
                (0x06, 0, 0, u32::MAX),
            ]
        );
        let program = to_ports(&OURS, true);
        assert_eq!(run(&program, &tcp(7890, 40000)), KEEP, "a reply to try 1");
        assert_eq!(run(&program, &tcp(7890, 40001)), KEEP, "a reply to try 2");
        assert_eq!(
            run(&program, &tcp(40000, 7890)),
            0,
            "our own SYN, looped back"
        );
        assert_eq!(
            run(&program, &tcp(443, 51000)),
            0,
            "another program's traffic"
        );
        assert_eq!(
            run(&program, &[0x9c, 0x40, 0x9c]),
            0,
            "too short for a port"
        );
    }

    #[test]
    fn the_ipv4_program_skips_the_header_and_its_options() {
        let program = to_ports(&OURS, false);
        assert_eq!(fields(&program[..2]), [(0xb1, 0, 0, 0), (0x48, 0, 0, 2)]);
        assert_eq!(
            &program[2..],
            &to_ports(&OURS, true)[1..],
            "the same comparisons"
        );
        for options in [0, 1, 10] {
            assert_eq!(
                run(&program, &ipv4(options, &tcp(7890, 40001))),
                KEEP,
                "{options}"
            );
            assert_eq!(
                run(&program, &ipv4(options, &tcp(40001, 7890))),
                0,
                "{options}"
            );
        }
        assert_eq!(run(&program, &ipv4(1, &[])), 0, "no TCP header");
    }

    #[test]
    fn at_most_sixteen_ports() {
        let ports: Vec<u16> = (40000..40020).collect();
        let program = to_ports(&ports, true);
        assert_eq!(program.len(), 1 + MAX_PORTS + 2);
        assert_eq!(run(&program, &tcp(1, 40015)), KEEP);
        assert_eq!(run(&program, &tcp(1, 40016)), 0);
        assert_eq!(sock_filters(&program).len(), program.len());
    }
}
