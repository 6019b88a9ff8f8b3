//! `ipdiag probe --loss-split` and `--idle-test`, the measurements through the responder:
//! arguments, flattened into `probe`'s. `--loss-split` also reads `probe`'s own
//! `-c/--count` (requests per rate), `--rate` (one rate), `-w/--timeout` (the wait for
//! replies after the last send) and `--token`; `--idle-test` reads `-w` (the wait beyond
//! each delay) and `--token`.

use clap::Args;

/// Loss by direction through the responder.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Split UDP loss by direction through an ipdiag responder (serve --udp PORT): send -c
    /// requests at --rate (or each of --rates) per second, then ask the responder how many
    /// arrived [default: 500 requests at 100/s]
    #[arg(long)]
    pub loss_split: bool,
    /// Several send rates for --loss-split, a row each: 100,1000,5000 (requests per second)
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "loss_split"
    )]
    pub rates: Vec<String>,
    /// How long the path keeps a UDP flow idle (NAT, conntrack, a security group): ask an
    /// ipdiag responder (serve --udp PORT) to answer after 1, 2, 4 … s of silence, up to
    /// --idle-max; a reply lost twice while an immediate one comes back means the path
    /// forgot the flow: a NAT or conntrack idle timeout
    #[arg(long, conflicts_with = "loss_split")]
    pub idle_test: bool,
    /// The longest silence --idle-test tries (at most 180s) [default: 120s, RFC 4787's
    /// minimum for a NAT]
    #[arg(long, value_name = "DURATION", requires = "idle_test")]
    pub idle_max: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        load: LoadArgs,
    }

    #[test]
    fn rates_are_a_comma_list_and_need_the_switch() {
        let parsed = Probe::try_parse_from(["probe", "--loss-split", "--rates", "100,1000"]);
        let load = parsed.unwrap().load;
        assert!(load.loss_split);
        assert_eq!(load.rates, ["100", "1000"]);
        assert!(Probe::try_parse_from(["probe", "--rates", "100"]).is_err());
        assert!(!Probe::try_parse_from(["probe"]).unwrap().load.loss_split);
    }
}
