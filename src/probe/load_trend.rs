//! Whether UDP loss grows with the send rate (`probe --loss-split --rates`), decided by a
//! statistical test on the counts rather than by a margin (pure).
//!
//! Loss measured from a thousand datagrams wobbles by more than a percentage point from
//! run to run: with 20 % random loss at two rates, "the higher rate lost a point more"
//! happens in almost a third of the runs although the loss does not depend on the rate.
//! So the lowest and the highest rate are compared by a one-sided test at the 0.5 % level
//! (a false "grows" once in 200 runs): the two-proportion z-test, or Fisher's exact test
//! when few datagrams were lost (or few got through) and the normal approximation does
//! not hold. Below [`MIN_TRAVELLED`] requests at either rate the counts are too coarse to
//! say anything.

use super::load_split::{Directions, percent};

/// Requests that must have travelled at each of the two rates compared: below this one
/// datagram moves the loss by more than three percentage points.
pub const MIN_TRAVELLED: u32 = 30;
/// The one-sided significance level: a false "grows" in one run of 200.
pub const ALPHA: f64 = 0.005;
/// The standard normal's quantile for [`ALPHA`], one-sided (z at 0.995).
const Z_CRITICAL: f64 = 2.575_829_303_548_901;
/// The least expected count of lost and of answered requests at each rate for the
/// normal approximation (the textbook rule); below it Fisher's exact test decides.
const MIN_EXPECTED: f64 = 5.0;

/// One rate's loss on the path, both directions together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLoss {
    /// Requests per second asked for.
    pub rate: f64,
    /// Requests that would have been answered had the path lost nothing: those sent, less
    /// the replies the responder withheld (its own rate limit, not the path).
    pub travelled: u32,
    /// Of those, lost on the way out or on the way back.
    pub lost: u32,
}

impl RateLoss {
    /// The loss of a run at `rate` that sent `sent` requests and split as `d`.
    pub fn of(rate: f64, sent: u32, d: &Directions) -> Self {
        let travelled = sent.saturating_sub(d.withheld);
        let lost = d.to_server_lost.saturating_add(d.to_client_lost);
        Self {
            rate,
            travelled,
            lost: lost.min(travelled),
        }
    }

    /// Lost, percent of those that travelled.
    pub fn pct(self) -> Option<f64> {
        percent(self.lost, self.travelled)
    }
}

/// What the counts say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Loss at the highest rate is above the lowest rate's by more than chance.
    Grows,
    /// The difference is within sampling noise (or loss fell).
    NoGrowth,
    /// Fewer than [`MIN_TRAVELLED`] requests travelled at one of the two rates.
    TooFew,
}

/// The comparison of the lowest rate with the highest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// The lowest rate's loss.
    pub low: RateLoss,
    /// The highest rate's loss.
    pub high: RateLoss,
    /// What the test says.
    pub verdict: Verdict,
}

/// The trend over finished rates (`LoadRun` and its `Split`); rates without a tally from the
/// server are left out.
pub fn trend_of<'a>(
    runs: impl IntoIterator<Item = (&'a super::load::LoadRun, &'a super::load_split::Split)>,
) -> Option<Trend> {
    let losses: Vec<RateLoss> = runs
        .into_iter()
        .filter_map(|(run, split)| {
            let d = split.directions?;
            Some(RateLoss::of(run.rate, run.counts.sent, &d))
        })
        .collect();
    trend(&losses)
}

/// Whether loss grows with the rate, given the trend: `None` when nothing can be said
/// (one rate, or too few datagrams).
pub fn loss_grows(trend: Option<Trend>) -> Option<bool> {
    match trend?.verdict {
        Verdict::Grows => Some(true),
        Verdict::NoGrowth => Some(false),
        Verdict::TooFew => None,
    }
}

/// Compares the lowest rate with the highest; `None` without two different rates.
pub fn trend(rates: &[RateLoss]) -> Option<Trend> {
    // No more lost than travelled, whoever built the counts.
    let whole = |r: &RateLoss| RateLoss {
        lost: r.lost.min(r.travelled),
        ..*r
    };
    let low = whole(rates.iter().min_by(|a, b| a.rate.total_cmp(&b.rate))?);
    let high = whole(rates.iter().max_by(|a, b| a.rate.total_cmp(&b.rate))?);
    if low.rate.total_cmp(&high.rate).is_ge() {
        return None;
    }
    let verdict = if low.travelled < MIN_TRAVELLED || high.travelled < MIN_TRAVELLED {
        Verdict::TooFew
    } else if grows(low, high) {
        Verdict::Grows
    } else {
        Verdict::NoGrowth
    };
    Some(Trend { low, high, verdict })
}

/// The one-sided test that `high` lost a larger share than `low`.
fn grows(low: RateLoss, high: RateLoss) -> bool {
    let (n1, x1) = (f64::from(low.travelled), f64::from(low.lost));
    let (n2, x2) = (f64::from(high.travelled), f64::from(high.lost));
    let pooled = (x1 + x2) / (n1 + n2);
    let normal = [n1, n2]
        .iter()
        .all(|n| n * pooled >= MIN_EXPECTED && n * (1.0 - pooled) >= MIN_EXPECTED);
    if normal {
        let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
        (x2 / n2 - x1 / n1) / se > Z_CRITICAL
    } else {
        let total = low.travelled.saturating_add(high.travelled);
        let lost = low.lost.saturating_add(high.lost);
        fisher_upper(total, lost, high.travelled, high.lost) < ALPHA
    }
}

/// Fisher's one-sided p-value: the chance that `drawn` of `total` requests (the high
/// rate's) hold `x` or more of the `lost` ones if loss did not depend on the rate
/// (hypergeometric upper tail), summed from `x` by the ratio of successive terms.
fn fisher_upper(total: u32, lost: u32, drawn: u32, at_least: u32) -> f64 {
    let most = lost.min(drawn);
    if at_least > most {
        return 0.0;
    }
    let (all, bad, high) = (f64::from(total), f64::from(lost), f64::from(drawn));
    let mut term = (ln_choose(lost, at_least)
        + ln_choose(total.saturating_sub(lost), drawn - at_least)
        - ln_choose(total, drawn))
    .exp();
    let mut sum = 0.0;
    for held in at_least..=most {
        sum += term;
        let held = f64::from(held);
        term *= (bad - held) * (high - held) / ((held + 1.0) * (all - bad - high + held + 1.0));
    }
    sum.min(1.0)
}

/// `ln(n choose k)`.
fn ln_choose(n: u32, k: u32) -> f64 {
    ln_factorial(n) - ln_factorial(k) - ln_factorial(n.saturating_sub(k))
}

/// `ln(n!)`: summed for small `n`, Stirling's series beyond (error below 1e-12 there).
fn ln_factorial(n: u32) -> f64 {
    if n < 20 {
        return (2..=n).map(|i| f64::from(i).ln()).sum();
    }
    let n = f64::from(n);
    n * n.ln() - n + 0.5 * (std::f64::consts::TAU * n).ln() + 1.0 / (12.0 * n)
        - 1.0 / (360.0 * n.powi(3))
        + 1.0 / (1260.0 * n.powi(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn at(rate: f64, travelled: u32, lost: u32) -> RateLoss {
        RateLoss {
            rate,
            travelled,
            lost,
        }
    }

    /// (travelled, lost) at 500/s and at 5000/s.
    // 20 % at both rates, as two runs of 1000 show it: a one-point margin called the first
    // three growth.
    #[test_case((1000, 200), (1000, 215) => Verdict::NoGrowth; "noise 200 vs 215")]
    #[test_case((1000, 200), (1000, 230) => Verdict::NoGrowth; "noise 200 vs 230")]
    #[test_case((1000, 200), (1000, 244) => Verdict::NoGrowth; "noise 200 vs 244")]
    #[test_case((1000, 192), (1000, 177) => Verdict::NoGrowth; "loss that fell")]
    #[test_case((1000, 0), (1000, 0) => Verdict::NoGrowth; "no loss")]
    #[test_case((500, 0), (400, 100) => Verdict::Grows; "a clear rise")]
    // 20 % against 25 % of 1000 each: z = 2.68, just past the 2.58 line.
    #[test_case((1000, 200), (1000, 250) => Verdict::Grows; "just significant")]
    // Few losses go to Fisher's exact test: none at the low rate, 8 of 1000 at the high is
    // p = 0.0039 (about 1/2^8); 7 is p = 0.0077, not below 0.005.
    #[test_case((1000, 0), (1000, 8) => Verdict::Grows; "fisher 8")]
    #[test_case((1000, 0), (1000, 7) => Verdict::NoGrowth; "fisher 7")]
    #[test_case((20, 0), (20, 20) => Verdict::TooFew; "tiny samples")]
    #[test_case((1000, 0), (29, 29) => Verdict::TooFew; "one tiny sample")]
    fn verdicts(low: (u32, u32), high: (u32, u32)) -> Verdict {
        let rates = [at(5000.0, high.0, high.1), at(500.0, low.0, low.1)];
        trend(&rates).expect("two rates").verdict
    }

    #[test]
    fn fishers_tail_against_known_values() {
        // The lady tasting tea: 8 cups, 4 with milk first, all 4 picked: 1/70.
        assert!((fisher_upper(8, 4, 4, 4) - 1.0 / 70.0).abs() < 1e-12);
        // Three or more of the four: (16 + 1) / 70.
        assert!((fisher_upper(8, 4, 4, 3) - 17.0 / 70.0).abs() < 1e-12);
        assert!((fisher_upper(2000, 8, 1000, 0) - 1.0).abs() < 1e-9);
        // Large counts: Stirling's series against the summed logarithm.
        let summed: f64 = (2..=5000u32).map(|i| f64::from(i).ln()).sum();
        assert!((ln_factorial(5000) - summed).abs() < 1e-6);
    }

    #[test]
    fn one_rate_is_no_trend() {
        assert_eq!(trend(&[at(100.0, 1000, 0)]), None);
        let impossible = trend(&[at(1.0, 40, 90), at(2.0, 40, 0)]).unwrap();
        assert_eq!(impossible.low.lost, 40, "clamped to what travelled");
        assert_eq!(trend(&[at(100.0, 1000, 0), at(100.0, 1000, 500)]), None);
        assert_eq!(trend(&[]), None);
    }

    #[test]
    fn the_loss_is_of_what_travelled() {
        let d = Directions {
            server_received: 500,
            withheld: 100,
            replies_sent: 400,
            to_server_lost: 0,
            to_server_pct: Some(0.0),
            to_client_lost: 100,
            to_client_pct: Some(25.0),
            withheld_pct: Some(20.0),
            duplicated: false,
        };
        let loss = RateLoss::of(5000.0, 500, &d);
        assert_eq!((loss.travelled, loss.lost), (400, 100));
        assert_eq!(loss.pct(), Some(25.0));
    }

    /// The point of the test: with the same 20 % random loss at both rates, a false
    /// "grows" is rare (the old margin claimed it in about 29 % of runs).
    #[test]
    fn false_claims_are_rare_under_equal_random_loss() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut lost_of_1000 = || {
            (0..1000)
                .filter(|_| {
                    // splitmix64
                    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    (z ^ (z >> 31)).is_multiple_of(5)
                })
                .count()
        };
        let runs = 2000;
        let (mut claimed, mut margin_claimed) = (0, 0);
        for _ in 0..runs {
            let low = u32::try_from(lost_of_1000()).unwrap();
            let high = u32::try_from(lost_of_1000()).unwrap();
            if verdicts((1000, low), (1000, high)) == Verdict::Grows {
                claimed += 1;
            }
            if f64::from(high) / 10.0 > f64::from(low) / 10.0 + 1.0 {
                margin_claimed += 1;
            }
        }
        assert!(claimed <= 25, "{claimed} false claims in {runs} runs");
        assert!(
            margin_claimed > runs / 5,
            "the old margin: {margin_claimed} in {runs}"
        );
    }
}
