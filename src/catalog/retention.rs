//! The rules of retention (DESIGN §4 "Retention", §9; docs/retention.md),
//! written once: which batch `gc` may collect, and why every other batch
//! survives. The facade asks [`verdict`] for its dry run; each backend asks
//! [`recheck`] again inside the transaction that marks a batch `expiring`,
//! on rows it has locked, so a publish, rollback or pin that raced the dry
//! run wins over the collection.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};
use crate::model::time::{format_instant, parse_duration};
use crate::model::{Batch, BatchId, BatchState, Pin, Properties};

/// The property of a table (or namespace, as the default of its tables)
/// that keeps the last N committed batches of each partition.
pub const KEEP_LAST: &str = "retention.keep_last";
/// The property that keeps batches younger than a duration (`30d`).
pub const MAX_AGE: &str = "retention.max_age";
/// The property (`true`/`false`) that keeps every batch a pinned batch was
/// built from (its recorded lineage inputs).
pub const KEEP_INPUTS_OF_PINNED: &str = "retention.keep_inputs_of_pinned";
/// The grace period when none is given: 7 days.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::days(7);
/// The shortest grace period accepted without `force_grace`.
pub const MIN_GRACE: TimeDelta = TimeDelta::hours(1);

/// What a retention policy keeps. Nothing is collected by a policy with
/// neither field set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Policy {
    /// Keep the last N committed batches of each partition (and the first N
    /// of the current batch's parent chain, what rollback walks).
    pub keep_last: Option<u32>,
    /// Keep batches younger than this many seconds.
    pub max_age_secs: Option<i64>,
    /// Keep the batches a pinned batch was built from.
    #[serde(default)]
    pub keep_inputs_of_pinned: Option<bool>,
}

impl Policy {
    /// Whether the policy collects anything at all.
    pub fn is_set(&self) -> bool {
        self.keep_last.is_some() || self.max_age_secs.is_some()
    }

    /// The policy in `properties` (a table's or a namespace's), each field
    /// validated; `None` fields when absent.
    pub fn from_properties(properties: &Properties) -> Result<Self> {
        let keep_last = properties
            .get(KEEP_LAST)
            .map(|v| {
                v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    invalid(format!(
                        "{KEEP_LAST} must be a whole number of batches, at least 1 (not {v:?})"
                    ))
                })
            })
            .transpose()?;
        let max_age_secs = properties
            .get(MAX_AGE)
            .map(|v| {
                parse_duration(v).map(|d| d.as_secs() as i64).map_err(|_| {
                    invalid(format!(
                        "{MAX_AGE} must be a duration such as 30d or 12h (not {v:?})"
                    ))
                })
            })
            .transpose()?;
        let keep_inputs_of_pinned = properties
            .get(KEEP_INPUTS_OF_PINNED)
            .map(|v| match v.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(invalid(format!(
                    "{KEEP_INPUTS_OF_PINNED} must be true or false (not {v:?})"
                ))),
            })
            .transpose()?;
        Ok(Self {
            keep_last,
            max_age_secs,
            keep_inputs_of_pinned,
        })
    }

    /// Whether the batches pinned batches were built from are kept.
    pub fn keeps_inputs_of_pinned(&self) -> bool {
        self.keep_inputs_of_pinned == Some(true)
    }

    /// `self` with the fields `over` sets replacing its own.
    pub fn overridden_by(self, over: Policy) -> Self {
        Self {
            keep_last: over.keep_last.or(self.keep_last),
            max_age_secs: over.max_age_secs.or(self.max_age_secs),
            keep_inputs_of_pinned: over.keep_inputs_of_pinned.or(self.keep_inputs_of_pinned),
        }
    }
}

/// The update that sets (a value) or removes (`None`, or `none`) a
/// table's or namespace's retention properties, by their short names
/// `keep_last`, `max_age`, `keep_inputs_of_pinned`; checked as it would be
/// stored. The CLI's `--retention` and Python's `set_retention` both build it.
pub fn policy_update(pairs: &[(&str, Option<&str>)]) -> Result<crate::model::MetadataUpdate> {
    let mut update = crate::model::MetadataUpdate::default();
    for (name, value) in pairs {
        let key = match name.trim() {
            "keep_last" => KEEP_LAST,
            "max_age" => MAX_AGE,
            "keep_inputs_of_pinned" => KEEP_INPUTS_OF_PINNED,
            other => {
                return Err(invalid(format!(
                    "unknown retention setting {other:?}: use keep_last, max_age or keep_inputs_of_pinned"
                )));
            }
        };
        match value.map(str::trim) {
            None | Some("none") => update.remove_properties.push(key.to_owned()),
            Some(v) => {
                update.set_properties.insert(key.to_owned(), v.to_owned());
            }
        }
    }
    check_properties(&update.set_properties)?;
    Ok(update)
}

/// [`policy_update`] from `keep_last=3,max_age=30d` (`keep_last=none` removes).
pub fn parse_policy_update(spec: &str) -> Result<crate::model::MetadataUpdate> {
    let pairs = spec
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=').map(|(k, v)| (k, Some(v))).ok_or_else(|| {
                invalid(format!(
                    "invalid retention setting {p:?}: write name=value, e.g. keep_last=3,max_age=30d"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    policy_update(&pairs)
}

/// Checks the retention properties of an update before it is stored, so
/// that a bad value is refused and changes nothing.
pub(crate) fn check_properties(properties: &Properties) -> Result<()> {
    Policy::from_properties(properties).map(|_| ())
}

/// Checks a policy given as flags: keep-last at least 1, an age not negative.
pub(crate) fn check_policy(p: &Policy) -> Result<()> {
    if p.keep_last == Some(0) {
        return Err(invalid("--keep-last must be at least 1".into()));
    }
    if p.max_age_secs.is_some_and(|s| s < 0) {
        return Err(invalid("--older-than must not be negative".into()));
    }
    Ok(())
}

fn invalid(message: String) -> Error {
    Error::invalid(Code::InvalidRetention, message)
}

/// The rules one `gc` run applies: the table's effective policy and the
/// grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GcRules {
    /// What the policy keeps.
    pub policy: Policy,
    /// Batches younger than this many seconds are never collected.
    pub grace_secs: i64,
}

impl GcRules {
    /// The rules with `grace` (default [`DEFAULT_GRACE`]); a grace under
    /// [`MIN_GRACE`] only with `force_grace`.
    pub fn new(policy: Policy, grace: Option<TimeDelta>, force_grace: bool) -> Result<Self> {
        let grace = grace.unwrap_or(DEFAULT_GRACE);
        if grace < MIN_GRACE && !force_grace {
            return Err(Error::invalid(
                Code::GraceTooShort,
                format!(
                    "a grace period of {}s is under one hour: a writer may still be publishing; use at least 1h, or --force-grace if you are sure",
                    grace.num_seconds()
                ),
            ));
        }
        if grace < TimeDelta::zero() {
            return Err(invalid("the grace period must not be negative".into()));
        }
        Ok(Self {
            policy,
            grace_secs: grace.num_seconds(),
        })
    }

    fn grace(&self) -> TimeDelta {
        TimeDelta::seconds(self.grace_secs)
    }
}

/// Why a batch survives a `gc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Survival {
    /// It is its partition's current batch.
    Current,
    /// Pins hold it (directly or through an as-of time).
    Pinned {
        /// The pins' names.
        pins: Vec<String>,
    },
    /// It is younger than the grace period.
    InGrace,
    /// It is staged and younger than the grace period: a publish may be in flight.
    InFlight,
    /// It is among the last N committed batches of its partition.
    WithinKeepLast,
    /// It is within the first N of the current batch's parent chain (what
    /// rollback walks).
    ParentOfCurrent,
    /// It is younger than the policy's maximum age.
    YoungerThanMaxAge,
    /// A pinned batch was built from it (`retention.keep_inputs_of_pinned`).
    InputOfPinned {
        /// The pinned batch built from it.
        batch: BatchId,
        /// The pins holding that batch.
        pins: Vec<String>,
    },
    /// No policy and no `--older-than`/`--keep-last` applies to it.
    NoPolicy,
}

impl fmt::Display for Survival {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Survival::Current => f.write_str("current"),
            Survival::Pinned { pins } => write!(f, "pinned by {}", pins.join(", ")),
            Survival::InGrace => f.write_str("in grace"),
            Survival::InFlight => f.write_str("in flight (staged, in grace)"),
            Survival::WithinKeepLast => f.write_str("within keep-last"),
            Survival::ParentOfCurrent => {
                f.write_str("parent of the current batch within keep-last")
            }
            Survival::YoungerThanMaxAge => f.write_str("younger than the policy's max age"),
            Survival::InputOfPinned { batch, pins } => {
                write!(f, "input of pinned {batch} (pinned by {})", pins.join(", "))
            }
            Survival::NoPolicy => f.write_str("no policy applies"),
        }
    }
}

/// Why a batch is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Collect {
    /// A committed batch the policy no longer keeps.
    Retention,
    /// A staged (or abandoned) batch never published, older than the grace period.
    Abandoned,
    /// Marked `expiring` by an earlier `gc` that did not finish.
    Resume,
}

/// What `gc` does with one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It stays, for this reason.
    Keep(Survival),
    /// It goes.
    Collect(Collect),
    /// Already expired: nothing to do.
    Gone,
}

/// The facts about one partition a verdict needs: its current batch, every
/// batch of it (in any order) and when each last stopped being current.
#[derive(Debug, Clone, Copy)]
pub struct PartitionFacts<'a> {
    /// The partition's current batch, if published.
    pub current: Option<&'a BatchId>,
    /// Every batch of the partition.
    pub batches: &'a [Batch],
    /// When each batch last stopped being current (its partition's pointer
    /// moved away from it), from the event log.
    pub left: &'a [(BatchId, DateTime<Utc>)],
}

impl PartitionFacts<'_> {
    /// The time batch `b`'s age counts from: when it last stopped being
    /// current (a reader that resolved it then may still be reading), or
    /// when it was staged.
    fn age_start(&self, b: &Batch) -> DateTime<Utc> {
        self.left
            .iter()
            .filter(|(id, _)| *id == b.id)
            .map(|(_, at)| *at)
            .fold(b.created_at, DateTime::max)
    }
}

/// The verdict on batch `b` of a partition at `now`, before pins (`pins`
/// are the unexpired pins holding it).
pub fn verdict(
    b: &Batch,
    facts: PartitionFacts<'_>,
    pins: &[Pin],
    rules: &GcRules,
    now: DateTime<Utc>,
) -> Verdict {
    match b.state {
        BatchState::Expired => return Verdict::Gone,
        BatchState::Expiring => return Verdict::Collect(Collect::Resume),
        _ => {}
    }
    if facts.current == Some(&b.id) {
        return Verdict::Keep(Survival::Current);
    }
    if !pins.is_empty() {
        return Verdict::Keep(Survival::Pinned {
            pins: pins.iter().map(|p| p.name.as_str().to_owned()).collect(),
        });
    }
    let age = now - facts.age_start(b);
    let committed = b.state == BatchState::Committed;
    if age < rules.grace() {
        return Verdict::Keep(if committed {
            Survival::InGrace
        } else {
            Survival::InFlight
        });
    }
    if !committed {
        return Verdict::Collect(Collect::Abandoned);
    }
    let policy = rules.policy;
    if !policy.is_set() {
        return Verdict::Keep(Survival::NoPolicy);
    }
    if let Some(n) = policy.keep_last.map(|n| n as usize) {
        if newest_committed(facts.batches, n).any(|id| *id == b.id) {
            return Verdict::Keep(Survival::WithinKeepLast);
        }
        if parent_chain(facts, n).any(|id| *id == b.id) {
            return Verdict::Keep(Survival::ParentOfCurrent);
        }
    }
    if let Some(max) = policy.max_age_secs
        && age < TimeDelta::seconds(max)
    {
        return Verdict::Keep(Survival::YoungerThanMaxAge);
    }
    Verdict::Collect(Collect::Retention)
}

/// The `n` newest committed (not expiring or expired) batches.
fn newest_committed(batches: &[Batch], n: usize) -> impl Iterator<Item = &BatchId> {
    let mut ids: Vec<&BatchId> = batches
        .iter()
        .filter(|b| b.state == BatchState::Committed)
        .map(|b| &b.id)
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.into_iter().take(n)
}

/// The current batch and its first parents, `n` in all.
fn parent_chain<'a>(facts: PartitionFacts<'a>, n: usize) -> impl Iterator<Item = &'a BatchId> {
    let mut out = Vec::with_capacity(n);
    let mut next = facts.current;
    while let Some(id) = next.filter(|_| out.len() < n) {
        out.push(id);
        next = facts
            .batches
            .iter()
            .find(|b| b.id == *id)
            .and_then(|b| b.parent.as_ref());
    }
    out.into_iter()
}

/// The re-check of the transaction that marks batch `b` expiring, on locked
/// rows: the batch must still be collectable. The `gc_skip_recheck` fault
/// (the race test's negative control) skips it.
pub(crate) fn recheck(
    b: &Batch,
    facts: PartitionFacts<'_>,
    pins: &[Pin],
    rules: &GcRules,
    now: DateTime<Utc>,
) -> Result<Collect> {
    let v = verdict(b, facts, pins, rules, now);
    if crate::faults::active("gc_skip_recheck") {
        return Ok(match v {
            Verdict::Collect(c) => c,
            _ => Collect::Retention,
        });
    }
    match v {
        Verdict::Collect(c) => Ok(c),
        Verdict::Gone => Err(expired(b)),
        Verdict::Keep(why) => Err(Error::invalid(
            Code::BatchProtected,
            format!(
                "batch {} is no longer collectable ({why}); it changed since the dry run, nothing was deleted",
                b.id
            ),
        )),
    }
}

/// The refusal of a publish, rollback or pin onto a batch retention has
/// chosen (`expiring`) or collected (`expired`).
pub(crate) fn expired(b: &Batch) -> Error {
    match (&b.state, &b.expired) {
        (BatchState::Expired, Some(e)) => Error::invalid(
            Code::BatchExpired,
            format!(
                "batch {} was expired by retention at {} (by {}): its files are gone; publish a new batch",
                b.id,
                format_instant(&e.at),
                e.by
            ),
        ),
        _ => Error::invalid(
            Code::BatchExpired,
            format!(
                "batch {} is being expired by retention (gc): its files are being deleted; publish a new batch",
                b.id
            ),
        ),
    }
}

/// Only an `expiring` batch becomes `expired`.
pub(crate) fn expirable(b: &Batch) -> Result<()> {
    match b.state {
        BatchState::Expiring => Ok(()),
        BatchState::Expired => Err(expired(b)),
        _ => Err(Error::invalid(
            Code::BatchProtected,
            format!(
                "batch {} is not marked expiring; run gc, which re-checks every rule first",
                b.id
            ),
        )),
    }
}

/// Whether `b` is a batch retention has chosen or collected.
pub(crate) fn is_expired(b: &Batch) -> bool {
    matches!(b.state, BatchState::Expiring | BatchState::Expired)
}
