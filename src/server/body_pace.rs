//! The pace a request body must keep, and what the server still reads of
//! a body it refuses.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;

use super::ServerConfig;

/// The pace a request body must keep, in the model of Apache's
/// `mod_reqtimeout` (`body=60,MinRate=500`): no pause longer than the idle
/// timeout, and the whole body by a deadline that starts at the idle
/// timeout and moves one second later for every `min_rate` bytes received.
/// A client that sends one byte a second is cut off after about a minute
/// however long its body claims to be; an upload of gigabytes at any
/// reasonable rate never meets the deadline.
#[derive(Debug)]
pub(super) struct BodyPace {
    started: Instant,
    received: u64,
    idle: Duration,
    min_rate: u64,
}

/// Why a body was cut off.
pub(super) enum Stalled {
    /// A pause longer than the idle timeout.
    Paused(Duration),
    /// On average slower than the minimum rate, after the first `grace`.
    TooSlow {
        received: u64,
        grace: Duration,
        min_rate: u64,
    },
}

impl BodyPace {
    pub(super) fn new(cfg: &ServerConfig) -> Self {
        Self {
            started: Instant::now(),
            received: 0,
            idle: cfg.body_read_timeout,
            min_rate: cfg.min_body_rate,
        }
    }

    /// How long to wait for the next chunk, and why the wait would end.
    fn wait(&self) -> (Duration, Stalled) {
        let paused = (self.idle, Stalled::Paused(self.idle));
        if self.min_rate == 0 {
            return paused;
        }
        let earned = Duration::from_secs_f64(self.received as f64 / self.min_rate as f64);
        let left = (self.idle + earned).saturating_sub(self.started.elapsed());
        if left < self.idle {
            let slow = Stalled::TooSlow {
                received: self.received,
                grace: self.idle,
                min_rate: self.min_rate,
            };
            (left, slow)
        } else {
            paused
        }
    }

    /// The next chunk of a body, or why the body was cut off.
    pub(super) async fn next<S, E>(
        &mut self,
        data: &mut S,
    ) -> Result<Option<Result<Bytes, E>>, Stalled>
    where
        S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
    {
        let (wait, why) = self.wait();
        let item = tokio::time::timeout(wait, data.next())
            .await
            .map_err(|_| why)?;
        if let Some(Ok(chunk)) = &item {
            self.received += chunk.len() as u64;
        }
        Ok(item)
    }
}

impl Stalled {
    /// The message of the 408, for `what` ("the request body", "the upload").
    pub(super) fn message(&self, what: &str) -> String {
        match self {
            Stalled::Paused(after) => format!(
                "{what} stalled for more than {} ms: send it without pauses, then retry",
                after.as_millis()
            ),
            Stalled::TooSlow {
                received,
                grace,
                min_rate,
            } => format!(
                "{what} arrived too slowly ({received} bytes so far): after its first {} s this server needs at least {min_rate} bytes a second on average; send it over a faster link, then retry",
                grace.as_secs()
            ),
        }
    }
}

/// How much of a refused body the server still reads, and throws away,
/// before it answers. Closing a socket with unread request bytes in it makes
/// the kernel send a reset, which can destroy the 413 before the client has
/// read it (hyper has no lingering close): a client that sent a body a
/// little over the limit would see "connection reset" instead of the
/// error that says what to do. Past this much the server answers at once.
pub(super) const DRAIN_AT_MOST: u64 = 16 << 20;

/// Reads and discards the rest of a refused body, at the body's pace and up
/// to [`DRAIN_AT_MOST`] bytes in all (`read` of them already read), so that
/// the refusal reaches the client. Stops at the end of the body, at a
/// stall, at an error or at the cap, whichever comes first.
pub(super) async fn drain<S, E>(data: &mut S, pace: &mut BodyPace, mut read: u64)
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
{
    while read <= DRAIN_AT_MOST {
        match pace.next(data).await {
            Ok(Some(Ok(chunk))) => read += chunk.len() as u64,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BodyPace, DRAIN_AT_MOST, Stalled, drain};
    use crate::server::ServerConfig;
    use bytes::Bytes;
    use futures::StreamExt as _;
    use std::time::Duration;

    /// A body of `n` one-byte chunks, one every `every`.
    fn trickle(
        n: usize,
        every: Duration,
    ) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        Box::pin(futures::stream::iter(0..n).then(move |_| async move {
            tokio::time::sleep(every).await;
            Ok(Bytes::from_static(b"x"))
        }))
    }

    async fn read_all(cfg: &ServerConfig, n: usize, every: Duration) -> Result<u64, Stalled> {
        let mut pace = BodyPace::new(cfg);
        let mut body = trickle(n, every);
        let mut got = 0;
        while let Some(chunk) = pace.next(&mut body).await? {
            got += chunk.map(|c| c.len() as u64).unwrap_or(0);
        }
        let _ = body.next().await;
        Ok(got)
    }

    #[tokio::test]
    async fn a_trickle_is_cut_off_after_the_grace_unless_the_minimum_rate_is_off() {
        let cfg = ServerConfig {
            body_read_timeout: Duration::from_secs(2),
            min_body_rate: 500,
            ..ServerConfig::default()
        };
        let slow = Duration::from_millis(200);
        // Five bytes a second never pause for 2 s (a tenth of it), but are far
        // below 500 B/s: margins wide enough for a loaded machine.
        match read_all(&cfg, 20, slow).await {
            Err(Stalled::TooSlow { received, .. }) => assert!(received < 20, "{received}"),
            Err(Stalled::Paused(_)) => panic!("cut off as paused, not as too slow"),
            Ok(n) => panic!("a 1 byte/s body of {n} bytes was read whole"),
        }
        // A fast body of the same size goes through; so does the trickle
        // with the minimum rate off (the idle timeout alone never fires).
        assert_eq!(
            read_all(&cfg, 10, Duration::from_millis(1)).await.ok(),
            Some(10)
        );
        let off = ServerConfig {
            min_body_rate: 0,
            ..cfg.clone()
        };
        assert_eq!(read_all(&off, 20, slow).await.ok(), Some(20));
        // A pause past the idle timeout is a pause, whatever the rate.
        assert!(matches!(
            read_all(&off, 3, Duration::from_secs(3)).await,
            Err(Stalled::Paused(_))
        ));
    }

    #[tokio::test]
    async fn drain_reads_the_rest_of_a_body_up_to_its_cap() {
        let cfg = ServerConfig::default();
        let chunk = Bytes::from(vec![0u8; 1 << 20]);
        let chunks = |n: usize| {
            futures::stream::iter((0..n).map(|_| Ok::<_, std::io::Error>(chunk.clone())))
        };
        // A body a little over a limit is read to its end.
        let mut small = chunks(3);
        drain(&mut small, &mut BodyPace::new(&cfg), 0).await;
        assert!(small.next().await.is_none());
        // A huge one is read only up to the cap: the rest stays unread.
        let n = (DRAIN_AT_MOST >> 20) as usize + 8;
        let mut huge = chunks(n);
        drain(&mut huge, &mut BodyPace::new(&cfg), 0).await;
        let left = huge.count().await;
        assert!(left > 0 && left < 8, "{left} chunks left unread");
    }
}
