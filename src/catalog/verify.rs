//! `verify`'s metadata checks (DESIGN §6), written once: the replay of each
//! partition's events against its pointer and the batch checks, over rows
//! a backend reads in one snapshot with its own four queries (see each
//! backend's `verify`), decoded here.

use std::collections::HashMap;

use super::row::Columns;
use crate::error::Result;
use crate::model::Violation;
use crate::storage;

/// A partition's pointer and the batch it names (columns: id, path,
/// current_batch, version, table name, the batch's state and partition).
#[derive(Debug)]
pub(crate) struct Pointer {
    id: i64,
    subject: String,
    current: Option<String>,
    version: i64,
    state: Option<String>,
    owner: Option<i64>,
}

pub(crate) fn pointer(r: &impl Columns) -> Result<Pointer> {
    Ok(Pointer {
        id: r.int(0)?,
        subject: format!("{} {}", r.text(4)?, r.text(1)?),
        current: r.opt_string(2)?,
        version: r.int(3)?,
        state: r.opt_string(5)?,
        owner: r.opt_int(6)?,
    })
}

/// One pointer move (columns: id, partition_id, from_batch, to_batch), in
/// partition and id order.
#[derive(Debug)]
pub(crate) struct Move {
    id: i64,
    partition_id: i64,
    from: Option<String>,
    to: Option<String>,
}

pub(crate) fn pointer_move(r: &impl Columns) -> Result<Move> {
    Ok(Move {
        id: r.int(0)?,
        partition_id: r.int(1)?,
        from: r.opt_string(2)?,
        to: r.opt_string(3)?,
    })
}

/// A committed batch's totals against its files (columns: batch_id, file
/// count, rows, bytes, committed_at, and the files' count, rows and bytes).
#[derive(Debug)]
pub(crate) struct Totals {
    batch_id: String,
    file_count: i64,
    rows: i64,
    bytes: i64,
    committed: bool,
    files: i64,
    file_rows: i64,
    file_bytes: i64,
}

pub(crate) fn totals(r: &impl Columns) -> Result<Totals> {
    Ok(Totals {
        batch_id: r.string(0)?,
        file_count: r.int(1)?,
        rows: r.int(2)?,
        bytes: r.int(3)?,
        committed: r.opt_time(4)?.is_some(),
        files: r.int(5)?,
        file_rows: r.int(6)?,
        file_bytes: r.int(7)?,
    })
}

/// A recorded file (columns: batch_id, the batch's location, path).
#[derive(Debug)]
pub(crate) struct File {
    batch_id: String,
    location: String,
    path: String,
}

pub(crate) fn file(r: &impl Columns) -> Result<File> {
    Ok(File {
        batch_id: r.string(0)?,
        location: r.string(1)?,
        path: r.string(2)?,
    })
}

fn v(invariant: u8, code: &str, subject: String, message: String) -> Violation {
    Violation {
        invariant,
        code: code.to_owned(),
        subject,
        message,
    }
}

/// Every violation the rows show.
pub(crate) fn check(
    pointers: &[Pointer],
    moves: &[Move],
    batches: &[Totals],
    files: &[File],
) -> Vec<Violation> {
    let mut out = Vec::new();

    // 2: every pointer names a committed batch of its own partition.
    for p in pointers {
        if let Some(c) = &p.current
            && (p.state.as_deref() != Some("committed") || p.owner != Some(p.id))
        {
            out.push(v(
                2,
                "pointer_not_committed",
                p.subject.clone(),
                format!(
                    "the pointer names batch {c}, which is not a committed batch of this partition"
                ),
            ));
        }
    }

    // 3: replaying each partition's events reproduces its pointer.
    let subjects: HashMap<i64, &str> = pointers
        .iter()
        .map(|p| (p.id, p.subject.as_str()))
        .collect();
    let mut replay: HashMap<i64, (Option<&str>, i64)> = HashMap::new();
    for m in moves {
        let entry = replay.entry(m.partition_id).or_insert((None, 0));
        if entry.0 != m.from.as_deref() {
            let subject = subjects.get(&m.partition_id).copied().unwrap_or_default();
            out.push(v(
                3,
                "event_chain_broken",
                subject.to_owned(),
                format!(
                    "event {} moves the pointer from {:?}, but the previous event left it at {:?}",
                    m.id, m.from, entry.0
                ),
            ));
        }
        *entry = (m.to.as_deref(), entry.1 + 1);
    }
    for p in pointers {
        let (last, count) = replay.get(&p.id).copied().unwrap_or((None, 0));
        if last != p.current.as_deref() || count != p.version {
            out.push(v(
                3,
                "pointer_not_replayable",
                p.subject.clone(),
                format!(
                    "replaying {count} events gives {:?}, but the pointer is {:?} at version {}",
                    last.map(str::to_owned),
                    p.current,
                    p.version
                ),
            ));
        }
    }

    // Batches: committed ones have files inside their own prefix and
    // totals that match them.
    for b in batches {
        if b.files == 0 || !b.committed {
            out.push(v(
                2,
                "committed_batch_incomplete",
                b.batch_id.clone(),
                "a committed batch without files or commit time".into(),
            ));
        }
        if b.files != b.file_count || b.file_rows != b.rows || b.file_bytes != b.bytes {
            out.push(v(
                2,
                "batch_totals_mismatch",
                b.batch_id.clone(),
                "the batch's file count, rows or bytes differ from its files".into(),
            ));
        }
    }
    for f in files {
        if !storage::is_inside(&f.location, &f.path) {
            out.push(v(
                1,
                "file_outside_prefix",
                f.batch_id.clone(),
                format!(
                    "file {:?} lies outside the batch prefix {}",
                    f.path, f.location
                ),
            ));
        }
    }
    out
}
