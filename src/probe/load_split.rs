//! Splitting UDP loss by direction (`probe --loss-split`), purely from counts: what the
//! client sent and got back, and the responder's tally of what reached it.
//!
//! ```text
//! client → server lost = sent − server received
//! server → client lost = replies the server sent − reply datagrams the client got
//!     where replies the server sent = server received − withheld (its rate limit)
//! ```
//!
//! Percentages are of the packets that travelled that way: the way out of `sent`, the way
//! back of the replies the server sent. Withheld replies never travelled, so they are not
//! return-path loss; they are reported on their own (of what the server received), because
//! their fix is on the server (`serve --rate`), not in the network. Counting reply
//! datagrams rather than answered requests keeps the way back exact when a request was
//! duplicated on the way out (the server then answered twice). Counts that cannot add up
//! (more arrived than was sent) come from duplication on the path and are flagged, never
//! turned into negative loss; except that more distinct requests answered than the server
//! counted means the server lost its count (its session table dropped the session, under a
//! flood of other sessions): then there is no split, rather than a blamed path.

use crate::wire::responder::Tally;

/// What the client counted in one run at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientCounts {
    /// Counted requests that left this host (a send that failed is not counted).
    pub sent: u32,
    /// Requests with at least one reply.
    pub answered: u32,
    /// Reply datagrams beyond the first for the same request.
    pub duplicates: u32,
}

impl ClientCounts {
    /// Reply datagrams received in all.
    pub fn reply_datagrams(self) -> u32 {
        self.answered.saturating_add(self.duplicates)
    }
}

/// Loss by direction, when the responder's tally is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Directions {
    /// Counted requests that reached the server.
    pub server_received: u32,
    /// Of those, the replies the server withheld because of its rate limit.
    pub withheld: u32,
    /// Replies the server sent.
    pub replies_sent: u32,
    /// Requests lost on the way to the server.
    pub to_server_lost: u32,
    /// The same, percent of the requests sent (`None` when none were sent).
    pub to_server_pct: Option<f64>,
    /// Replies lost on the way back.
    pub to_client_lost: u32,
    /// The same, percent of the replies the server sent (`None` when it sent none).
    pub to_client_pct: Option<f64>,
    /// Withheld, percent of the requests the server received (`None` when none arrived).
    pub withheld_pct: Option<f64>,
    /// More arrived than was sent, one way or the other: packets duplicated on the path.
    pub duplicated: bool,
}

/// One run's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// The client's counts.
    pub client: ClientCounts,
    /// Requests without any reply, percent of those sent (`None` when none were sent).
    pub loss_pct: Option<f64>,
    /// By direction; `None` when the responder's tally is unknown (a responder that
    /// predates sessions, or every tally reply lost) or lost (`count_lost`).
    pub directions: Option<Directions>,
    /// The server counted fewer requests than got distinct answers: it lost this
    /// session's count (evicted and restarted), so its tally says nothing about the path.
    pub count_lost: bool,
}

/// `part` of `whole` in percent; `None` for an empty whole.
pub fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| 100.0 * f64::from(part.min(whole)) / f64::from(whole))
}

/// Splits one run's loss by direction.
pub fn split(client: ClientCounts, tally: Option<Tally>) -> Split {
    let unanswered = client.sent.saturating_sub(client.answered);
    // Each distinct answer needs a request the server received: a duplicate on the way
    // out gives a second reply to the same request (`duplicates`), never a new answer.
    let count_lost = tally.is_some_and(|t| client.answered > t.received);
    Split {
        client,
        loss_pct: percent(unanswered, client.sent),
        directions: tally.filter(|_| !count_lost).map(|t| directions(client, t)),
        count_lost,
    }
}

fn directions(client: ClientCounts, tally: Tally) -> Directions {
    let received = tally.received;
    let withheld = tally.withheld.min(received);
    let replies_sent = received - withheld;
    let got = client.reply_datagrams();
    let to_server_lost = client.sent.saturating_sub(received);
    let to_client_lost = replies_sent.saturating_sub(got);
    Directions {
        server_received: received,
        withheld,
        replies_sent,
        to_server_lost,
        to_server_pct: percent(to_server_lost, client.sent),
        to_client_lost,
        to_client_pct: percent(to_client_lost, replies_sent),
        withheld_pct: percent(withheld, received),
        duplicated: received > client.sent || got > replies_sent || tally.withheld > received,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(sent: u32, answered: u32, duplicates: u32) -> ClientCounts {
        ClientCounts {
            sent,
            answered,
            duplicates,
        }
    }

    fn tally(received: u32, withheld: u32) -> Tally {
        Tally { received, withheld }
    }

    #[test]
    fn loss_only_on_the_way_back() {
        let s = split(client(1000, 800, 0), Some(tally(1000, 0)));
        assert_eq!(s.loss_pct, Some(20.0));
        let d = s.directions.unwrap();
        assert_eq!((d.to_server_lost, d.to_client_lost), (0, 200));
        assert_eq!((d.to_server_pct, d.to_client_pct), (Some(0.0), Some(20.0)));
        assert!(!d.duplicated);
    }

    #[test]
    fn loss_both_ways() {
        // 100 lost going out; of the 900 replies, 90 lost coming back.
        let d = split(client(1000, 810, 0), Some(tally(900, 0)))
            .directions
            .unwrap();
        assert_eq!((d.to_server_lost, d.to_client_lost), (100, 90));
        assert_eq!((d.to_server_pct, d.to_client_pct), (Some(10.0), Some(10.0)));
    }

    #[test]
    fn withheld_replies_are_not_path_loss() {
        // The server got all 500, answered 70 (its rate limit), and 7 of those were lost.
        let s = split(client(500, 63, 0), Some(tally(500, 430)));
        let d = s.directions.unwrap();
        assert_eq!(d.replies_sent, 70);
        assert_eq!(
            (d.to_server_lost, d.to_client_lost, d.withheld),
            (0, 7, 430)
        );
        assert_eq!(
            d.to_client_pct,
            Some(10.0),
            "of the 70 replies that travelled"
        );
        assert_eq!(d.withheld_pct, Some(86.0));
        assert_eq!(s.loss_pct, Some(87.4), "the client's view mixes both");
    }

    #[test]
    fn nothing_reached_the_server() {
        let d = split(client(100, 0, 0), Some(tally(0, 0)))
            .directions
            .unwrap();
        assert_eq!((d.to_server_lost, d.to_server_pct), (100, Some(100.0)));
        assert_eq!(
            (d.to_client_lost, d.to_client_pct, d.withheld_pct),
            (0, None, None),
            "no reply travelled: no return-path figure at all"
        );
    }

    #[test]
    fn everything_withheld() {
        let d = split(client(100, 0, 0), Some(tally(100, 100)))
            .directions
            .unwrap();
        assert_eq!((d.replies_sent, d.to_client_pct), (0, None));
        assert_eq!(d.withheld_pct, Some(100.0));
    }

    #[test]
    fn tally_unknown() {
        let s = split(client(100, 60, 0), None);
        assert_eq!(s.loss_pct, Some(40.0));
        assert_eq!(s.directions, None);
    }

    #[test]
    fn nothing_sent() {
        let s = split(client(0, 0, 0), Some(tally(0, 0)));
        assert_eq!(s.loss_pct, None);
        let d = s.directions.unwrap();
        assert_eq!((d.to_server_pct, d.to_client_pct), (None, None));
    }

    #[test]
    fn duplicated_requests_are_answered_twice_and_still_add_up() {
        // 10 requests duplicated on the way out: the server got 1010 and replied 1010
        // times; the client got 1000 distinct answers and 10 duplicates, and lost nothing.
        let d = split(client(1000, 1000, 10), Some(tally(1010, 0)))
            .directions
            .unwrap();
        assert_eq!((d.to_server_lost, d.to_client_lost), (0, 0));
        assert!(d.duplicated);
        // Replies duplicated on the way back: more arrived than were sent, loss is 0.
        let d = split(client(100, 100, 5), Some(tally(100, 0)))
            .directions
            .unwrap();
        assert_eq!((d.to_client_lost, d.to_client_pct), (0, Some(0.0)));
        assert!(d.duplicated);
    }

    #[test]
    fn more_answers_than_the_server_counted_is_a_lost_count_not_the_path() {
        // The server's session was evicted and counted again from zero: 89 of 200.
        let s = split(client(200, 200, 0), Some(tally(89, 0)));
        assert!(s.count_lost);
        assert_eq!(s.directions, None, "no split, no blamed direction");
        assert_eq!(s.loss_pct, Some(0.0));
        let fine = split(client(200, 150, 0), Some(tally(180, 0)));
        assert!(!fine.count_lost && fine.directions.is_some());
    }

    #[test]
    fn counts_that_cannot_happen_do_not_underflow() {
        let d = split(client(10, 5, u32::MAX), Some(tally(5, 9)))
            .directions
            .unwrap();
        assert_eq!((d.withheld, d.replies_sent, d.to_client_lost), (5, 0, 0));
        assert!(d.duplicated);
        assert_eq!(split(client(10, 20, 0), None).loss_pct, Some(0.0));
    }
}
