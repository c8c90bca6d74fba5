//! Test-only faults, for the negative controls that prove a harness can fail.
//!
//! With the `faults` feature (turned on only by this workspace's
//! dev-dependencies, so `cargo test` builds have it and `cargo build`,
//! `make run` and the Python wheel do not) a fault is switched on at run time
//! by naming it in `BATCHMETA_FAULTS` (comma separated). Without the feature
//! [`active`] is `false` and the faulty paths compile away.
//!
//! Faults:
//! - `read_then_update_publish`: the PostgreSQL publish reads the partition
//!   pointers without a lock, decides the compare-and-swap on that read,
//!   waits until another writer (any replica) has read the same pointer
//!   version ([`rendezvous_read`], bounded) and then moves the pointers
//!   unconditionally: the classic lost update, made to happen every run,
//!   which the scale-out test must catch.
//! - `skip_authorization`: the server authenticates tokens but lets every
//!   valid token do everything, the hole the authorization matrix
//!   (`cli/tests/authz.rs`) must catch.
//! - `invalid_input_as_500`: the server answers bad input with a 500, the
//!   crash the API fuzzing (`scripts/api-fuzz --negative-control`) must catch.
//! - `unavailable_as_success`: the server answers a request that failed
//!   because the catalog database was down (`database_unavailable`) with an
//!   empty 200, the silent loss the fault harness (`cli/tests/faults.rs`)
//!   must catch.
//!
//! Crash points of a publish (each aborts the process at that step with
//! `std::process::abort()`, as a SIGKILL or a power cut would stop it; the
//! crash-safety tests in `cli/tests/crash.rs` run `meta serve` with one of
//! them, then restart it without and check what a crash there leaves):
//! - `crash_after_data_written`: a batch's data files are in the store (a
//!   write through the facade or a Parquet upload through the server), but
//!   not yet recorded in the catalog.
//! - `crash_before_commit`: the publish transaction has moved the pointers
//!   and appended the events but not committed (both catalogs, SQLite and
//!   PostgreSQL).
//! - `crash_after_commit`: the publish has committed, but its result has not
//!   reached the caller (in the facade, so with either catalog, and before
//!   the server answers).
//!
//! - `crash_during_gc`: `gc --apply` aborts after deleting the first file
//!   of a batch it marked `expiring`.
//! - `gc_pause_after_delete`: `gc --apply` pauses after each file it
//!   deletes ([`pause_point`]), so that the gc crash test can SIGKILL it
//!   there; `gc_mark_expired_first` (its negative control) marks a batch
//!   `expired`, with its audit event, before deleting its files, so a kill
//!   in between leaves files no rerun deletes.
//!
//! A fault that breaks the guarantee, for the crash loop's negative control:
//! - `ack_before_commit`: the publish transaction commits 100 ms after the
//!   publish has returned its commit (so the server answers 2xx first); a
//!   crash in between loses an acknowledged publish (both catalogs). The
//!   same for a rollback's and a pin creation's transaction, which the
//!   loop's rollback and pin workloads must catch.
//!
//! - `sqlite_no_busy_timeout`: every SQLite connection gets a busy timeout
//!   of zero, so a write that finds another process's write transaction
//!   fails at once with `SQLITE_BUSY` ("database is locked"); the test of
//!   two servers on one SQLite catalog (`cli/tests/scale_out.rs`) must see
//!   those errors reach its clients.
//!
//! - `openlineage_fire_and_forget`: the OpenLineage delivery counts a failed
//!   POST as sent and moves its cursor past it, so events published while
//!   the receiver is down are lost; the kill-and-restart test
//!   (`bindings/python/tests/test_openlineage.py`) must see them missing.
//!
//! Bad-input faults (the negative control of the bad-input corpus,
//! `tests/it/bad_input_http.rs`):
//! - `skip_name_validation`: namespace, table, key and pin names are accepted
//!   as given (`..`, `/`, NUL, 10,000 characters...), so refused-input cases
//!   start succeeding and writing; the corpus must report them.

/// Whether the named fault is switched on for this process.
#[cfg(feature = "faults")]
pub fn active(name: &str) -> bool {
    use std::sync::OnceLock;
    static FAULTS: OnceLock<Vec<String>> = OnceLock::new();
    FAULTS
        .get_or_init(|| {
            std::env::var("BATCHMETA_FAULTS")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|f| f == name)
}

/// Whether the named fault is switched on: never, in a build without the
/// `faults` feature.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn active(_name: &str) -> bool {
    false
}

/// Aborts the process here when the named crash point is switched on (see
/// the module docs); nothing, in a build without the `faults` feature.
#[inline(always)]
pub fn crash_point(name: &str) {
    if active(name) {
        eprintln!("batchmeta: fault {name}: aborting the process");
        std::process::abort();
    }
}

/// Pauses here when the named fault is switched on: says `what` on stderr
/// (`batchmeta: fault NAME: paused after WHAT`) and waits for a line on
/// stdin, so that a test can SIGKILL the process at exactly this step (the
/// gc crash test, `cli/tests/crash_gc/`). Nothing without the feature.
#[inline(always)]
pub fn pause_point(name: &str, what: &dyn std::fmt::Display) {
    if active(name) {
        eprintln!("batchmeta: fault {name}: paused after {what}");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
}

/// How long `ack_before_commit` holds a write's transaction open after the
/// write has returned.
pub const ACK_BEFORE_COMMIT_DELAY: std::time::Duration = std::time::Duration::from_millis(100);

/// For `read_then_update_publish`: records that this writer read version
/// `version` of partition `partition_id`, then waits (at most 2 s) until
/// another writer, in this process or another replica, has read the same
/// version. Coordination goes through an unlogged table in the catalog's
/// own database, so it spans replicas. Best effort: errors end the wait.
#[cfg(feature = "faults")]
pub(crate) async fn rendezvous_read(pool: &sqlx::PgPool, partition_id: i64, version: i64) {
    use std::time::{Duration, Instant};
    let token = uuid::Uuid::new_v4().simple().to_string();
    let setup = async {
        let mut conn = pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock(7312)")
            .execute(&mut *conn)
            .await?;
        let made = sqlx::query(
            "CREATE UNLOGGED TABLE IF NOT EXISTS fault_rendezvous \
             (partition_id bigint, version bigint, token text)",
        )
        .execute(&mut *conn)
        .await;
        sqlx::query("SELECT pg_advisory_unlock(7312)")
            .execute(&mut *conn)
            .await?;
        made?;
        sqlx::query("INSERT INTO fault_rendezvous VALUES ($1, $2, $3)")
            .bind(partition_id)
            .bind(version)
            .bind(&token)
            .execute(&mut *conn)
            .await?;
        Ok::<_, sqlx::Error>(())
    };
    if setup.await.is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let others: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "SELECT count(*) FROM fault_rendezvous \
             WHERE partition_id = $1 AND version = $2 AND token <> $3",
        )
        .bind(partition_id)
        .bind(version)
        .bind(&token)
        .fetch_one(pool)
        .await;
        match others {
            Ok(n) if n > 0 => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(2)).await,
            Err(_) => return,
        }
    }
}

/// Without the `faults` feature there is nothing to wait for.
#[cfg(not(feature = "faults"))]
pub(crate) async fn rendezvous_read(_pool: &sqlx::PgPool, _partition_id: i64, _version: i64) {}
